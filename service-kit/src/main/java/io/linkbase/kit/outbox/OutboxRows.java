package io.linkbase.kit.outbox;

import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.UUID;

/**
 * Many outbox rows of one aggregate (same topic and Kafka key), written for one COPY in
 * PostgreSQL's binary format: each field is its length and its bytes, so an envelope goes as it is
 * and the event id as its 16 bytes. The outbox writer for batches (an import, a reconciliation);
 * {@link Outbox#append} is the one for a single event, where an INSERT costs less than a COPY.
 * Encoding is pure computation and may run beside SQL work; {@link #copy} sends the result.
 *
 * <p>On a bulk topic ({@link Lane#BULK}) consecutive events of one type are written as
 * {@linkplain Packs packs}: up to {@value #PACK_EVENTS} events or {@value #PACK_BYTES} bytes in one
 * outbox row, which the relay publishes as as many Kafka messages. A row per event cost
 * PostgreSQL an insert into three indexes, a delete and a vacuum for every event of an import
 * (docs/decisions.md "Import speed"). An event larger than {@value #PACK_ALONE_BYTES} bytes gets a
 * row of its own, so that the relay can park exactly it if Kafka refuses it for its size.
 */
public final class OutboxRows {
    /** COPY BINARY's signature, flags (none) and header extension length (0). */
    private static final byte[] COPY_HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
        0, 0, 0, 0, 0, 0, 0, 0};
    private static final int COLUMNS = 6;
    private static final int CHUNK_BYTES = 1 << 20;
    static final int PACK_EVENTS = 500;
    static final int PACK_BYTES = 256 * 1024;
    static final int PACK_ALONE_BYTES = 32 * 1024;

    private final byte[] topic;
    private final byte[] key;
    private final List<byte[]> chunks = new ArrayList<>();
    private ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
    private byte[] lastType;
    private String lastTypeName;
    private final boolean packs;
    /** The open pack: its type, event count, and where its events field and envelope field start. */
    private String packType;
    private int packEvents;
    private int packEventsAt = -1;
    private int packEnvelopeAt;

    public OutboxRows(String topic, String kafkaKey) {
        this.topic = topic.getBytes(StandardCharsets.UTF_8);
        this.key = kafkaKey.getBytes(StandardCharsets.UTF_8);
        this.packs = Lane.of(topic) == Lane.BULK;
        buffer.put(COPY_HEADER);
    }

    /**
     * Writes a row's fields up to its envelope and reserves {@code envelopeLength} bytes for it;
     * returns where they start in {@link #array()} (read the array after this call: a full chunk
     * is put aside and a new one begun). The caller writes exactly that many bytes there.
     */
    public int reserve(UUID eventId, String eventType, int envelopeLength) {
        if (!packs || envelopeLength > PACK_ALONE_BYTES) {
            closePack();
            return row(eventId, eventType, 1, envelopeLength);
        }
        if (packEventsAt >= 0 && (!eventType.equals(packType) || packEvents >= PACK_EVENTS
            || buffer.position() - packEnvelopeAt + 4 + envelopeLength > PACK_BYTES)) {
            closePack();
        }
        if (packEventsAt < 0) {
            // The pack's row, whole in this chunk; its event count and envelope length are
            // written when it closes.
            ensure(rowBytes(eventType, PACK_BYTES));
            row(eventId, eventType, 0, 0);
            packEventsAt = buffer.position() - 8;
            packEnvelopeAt = buffer.position() - 4;
            packType = eventType;
            packEvents = 0;
        }
        buffer.putInt(envelopeLength);
        int at = buffer.position();
        buffer.position(at + envelopeLength);
        packEvents++;
        return at;
    }

    /** A row's fields up to its envelope; returns where the envelope's bytes start. */
    private int row(UUID eventId, String eventType, int events, int envelopeLength) {
        byte[] type = type(eventType);
        ensure(rowBytes(eventType, envelopeLength));
        buffer.putShort((short) COLUMNS);
        buffer.putInt(topic.length).put(topic);
        buffer.putInt(key.length).put(key);
        buffer.putInt(16).putLong(eventId.getMostSignificantBits()).putLong(eventId.getLeastSignificantBits());
        buffer.putInt(type.length).put(type);
        buffer.putInt(4).putInt(events);
        buffer.putInt(envelopeLength);
        int at = buffer.position();
        buffer.position(at + envelopeLength);
        return at;
    }

    /** A row's bytes with an envelope of {@code envelopeLength}, and room for COPY's trailer. */
    private int rowBytes(String eventType, int envelopeLength) {
        return 2 + 4 * COLUMNS + topic.length + key.length + 16 + type(eventType).length + 4 + envelopeLength + 2;
    }

    private void ensure(int need) {
        if (buffer.remaining() < need) {
            if (packEventsAt >= 0) {
                throw new IllegalStateException("a pack must stay in one chunk");
            }
            chunks.add(Arrays.copyOf(buffer.array(), buffer.position()));
            buffer = ByteBuffer.allocate(Math.max(CHUNK_BYTES, need));
        }
    }

    /** Writes the open pack's event count and length; a pack of one becomes a plain row. */
    private void closePack() {
        if (packEventsAt < 0) {
            return;
        }
        buffer.putInt(packEventsAt, packEvents);
        if (packEvents == 1) {
            int length = buffer.getInt(packEnvelopeAt + 4);
            System.arraycopy(buffer.array(), packEnvelopeAt + 8, buffer.array(), packEnvelopeAt + 4, length);
            buffer.position(buffer.position() - 4);
        }
        buffer.putInt(packEnvelopeAt, buffer.position() - packEnvelopeAt - 4);
        packEventsAt = -1;
    }

    /** The chunk being written, for the bytes {@link #reserve} made room for. */
    public byte[] array() {
        return buffer.array();
    }

    /** A row whose envelope is already serialized. */
    public void add(UUID eventId, String eventType, byte[] envelope) {
        int at = reserve(eventId, eventType, envelope.length);
        System.arraycopy(envelope, 0, array(), at, envelope.length);
    }

    /** The rows as COPY's input, in chunks of about a megabyte; no row may be added after. */
    public List<byte[]> finish() {
        closePack();
        if (buffer.remaining() < 2) {
            chunks.add(Arrays.copyOf(buffer.array(), buffer.position()));
            buffer = ByteBuffer.allocate(2);
        }
        buffer.putShort((short) -1); // the trailer
        chunks.add(Arrays.copyOf(buffer.array(), buffer.position()));
        return chunks;
    }

    private byte[] type(String name) {
        if (!name.equals(lastTypeName)) {
            lastTypeName = name;
            lastType = name.getBytes(StandardCharsets.US_ASCII);
        }
        return lastType;
    }

    /** Appends what {@link #finish} gave to the outbox, with one COPY in the caller's transaction. */
    public static void copy(Connection c, List<byte[]> chunks) throws SQLException {
        CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI()
            .copyIn("COPY outbox (topic, kafka_key, event_id, event_type, events, envelope) FROM STDIN (FORMAT binary)");
        try {
            for (byte[] chunk : chunks) {
                copy.writeToCopy(chunk, 0, chunk.length);
            }
            copy.endCopy();
        } finally {
            if (copy.isActive()) {
                copy.cancelCopy();
            }
        }
    }
}
