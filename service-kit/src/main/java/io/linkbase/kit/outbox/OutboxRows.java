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
 */
public final class OutboxRows {
    /** COPY BINARY's signature, flags (none) and header extension length (0). */
    private static final byte[] COPY_HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0,
        0, 0, 0, 0, 0, 0, 0, 0};
    private static final int COLUMNS = 5;
    private static final int CHUNK_BYTES = 1 << 20;

    private final byte[] topic;
    private final byte[] key;
    private final List<byte[]> chunks = new ArrayList<>();
    private ByteBuffer buffer = ByteBuffer.allocate(CHUNK_BYTES);
    private byte[] lastType;
    private String lastTypeName;

    public OutboxRows(String topic, String kafkaKey) {
        this.topic = topic.getBytes(StandardCharsets.UTF_8);
        this.key = kafkaKey.getBytes(StandardCharsets.UTF_8);
        buffer.put(COPY_HEADER);
    }

    /**
     * Writes a row's fields up to its envelope and reserves {@code envelopeLength} bytes for it;
     * returns where they start in {@link #array()} (read the array after this call: a full chunk
     * is put aside and a new one begun). The caller writes exactly that many bytes there.
     */
    public int reserve(UUID eventId, String eventType, int envelopeLength) {
        byte[] type = type(eventType);
        int need = 2 + 4 * COLUMNS + topic.length + key.length + 16 + type.length + envelopeLength + 2;
        if (buffer.remaining() < need) {
            chunks.add(Arrays.copyOf(buffer.array(), buffer.position()));
            buffer = ByteBuffer.allocate(Math.max(CHUNK_BYTES, need));
        }
        buffer.putShort((short) COLUMNS);
        buffer.putInt(topic.length).put(topic);
        buffer.putInt(key.length).put(key);
        buffer.putInt(16).putLong(eventId.getMostSignificantBits()).putLong(eventId.getLeastSignificantBits());
        buffer.putInt(type.length).put(type);
        buffer.putInt(envelopeLength);
        int at = buffer.position();
        buffer.position(at + envelopeLength);
        return at;
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
            .copyIn("COPY outbox (topic, kafka_key, event_id, event_type, envelope) FROM STDIN (FORMAT binary)");
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
