package io.linkbase.record.publish;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Timestamp;
import com.google.protobuf.WireFormat;
import io.linkbase.kit.events.Cause;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.proto.v1.Value;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Writes a sealed {@code RecordUpserted} envelope straight to its protobuf wire bytes, the same
 * message kit {@code Envelopes.seal} builds (a test parses both and compares them), without a
 * builder, a built message or a map entry object per value: protobuf's generic path (builder,
 * build, size, serialize, one MapEntry per column) was half of an import's work in
 * record-service (docs/decisions.md "Import speed"). The fields shared by every event of one
 * write (tenant, table, time, causation) are encoded once; column ids once per write.
 * Not thread-safe: one writer per write, {@link #size} then {@link #write} for each event.
 */
final class UpsertWriter {
    static final String TYPE = Envelopes.typeOf(EventEnvelope.PayloadCase.RECORD_UPSERTED);
    private static final byte[] TYPE_BYTES = TYPE.getBytes(StandardCharsets.US_ASCII);
    private static final int PAYLOAD_FIELD = EventEnvelope.RECORD_UPSERTED_FIELD_NUMBER;
    private static final int VALUES_FIELD = RecordUpserted.VALUES_FIELD_NUMBER;

    private final byte[] tenant;
    private final String tableId;
    private final byte[] table;
    private final byte[] causation;
    /** The user's request's id; when there is none (""), each event's own id. */
    private final byte[] correlation;
    private final byte[] occurredAt;
    private final Map<String, byte[]> columnIds = new HashMap<>();

    // the event between size() and write()
    private byte[] eventId;
    private long version;
    private byte[] payloadTable;
    private long recordId;
    private long recordVersion;
    private int entries;
    private byte[][] entryKeys = new byte[8][];
    private Value[] entryValues = new Value[8];
    private int[] entrySizes = new int[8];
    private int payloadSize;

    UpsertWriter(String tenantId, String tableId, Cause cause, Instant now) {
        this.tenant = utf8(tenantId);
        this.tableId = tableId;
        this.table = utf8(tableId);
        this.causation = utf8(cause.causationId());
        this.correlation = cause.correlationId().isEmpty() ? null : utf8(cause.correlationId());
        this.occurredAt = Timestamp.newBuilder().setSeconds(now.getEpochSecond()).setNanos(now.getNano()).build()
            .toByteArray();
    }

    /** Prepares the envelope of one event; returns its size in bytes. */
    int size(String eventIdText, long aggregateVersion, String payloadTableId, long id, long recordVersionNow,
             Map<String, Value> values) {
        eventId = eventIdText.getBytes(StandardCharsets.US_ASCII);
        version = aggregateVersion;
        payloadTable = payloadTableId.equals(tableId) ? table : utf8(payloadTableId);
        recordId = id;
        recordVersion = recordVersionNow;
        int n = values.size();
        if (entryKeys.length < n) {
            entryKeys = Arrays.copyOf(entryKeys, n);
            entryValues = Arrays.copyOf(entryValues, n);
            entrySizes = Arrays.copyOf(entrySizes, n);
        }
        int payload = bytesSize(1, payloadTable) + int64Size(2, recordId) + int64Size(3, recordVersion);
        int i = 0;
        for (Map.Entry<String, Value> e : values.entrySet()) {
            byte[] key = columnIds.computeIfAbsent(e.getKey(), UpsertWriter::utf8);
            int entry = CodedOutputStream.computeTagSize(1) + CodedOutputStream.computeUInt32SizeNoTag(key.length)
                + key.length + CodedOutputStream.computeMessageSize(2, e.getValue());
            entryKeys[i] = key;
            entryValues[i] = e.getValue();
            entrySizes[i] = entry;
            payload += CodedOutputStream.computeTagSize(VALUES_FIELD) + CodedOutputStream.computeUInt32SizeNoTag(entry) + entry;
            i++;
        }
        entries = i;
        payloadSize = payload;
        return bytesSize(1, eventId) + bytesSize(2, TYPE_BYTES) + bytesSize(3, tenant) + bytesSize(4, table)
            + int64Size(5, version)
            + CodedOutputStream.computeTagSize(6) + CodedOutputStream.computeUInt32SizeNoTag(occurredAt.length) + occurredAt.length
            + bytesSize(7, correlation == null ? eventId : correlation) + bytesSize(8, causation)
            + CodedOutputStream.computeInt32Size(9, Envelopes.SCHEMA_VERSION)
            + CodedOutputStream.computeTagSize(PAYLOAD_FIELD) + CodedOutputStream.computeUInt32SizeNoTag(payloadSize) + payloadSize;
    }

    /** Writes the envelope {@link #size} prepared into exactly {@code size} bytes at {@code offset}. */
    void write(byte[] into, int offset, int size) {
        try {
            CodedOutputStream out = CodedOutputStream.newInstance(into, offset, size);
            bytes(out, 1, eventId);
            bytes(out, 2, TYPE_BYTES);
            bytes(out, 3, tenant);
            bytes(out, 4, table);
            if (version != 0) {
                out.writeInt64(5, version);
            }
            out.writeTag(6, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(occurredAt.length);
            out.writeRawBytes(occurredAt);
            bytes(out, 7, correlation == null ? eventId : correlation);
            bytes(out, 8, causation);
            out.writeInt32(9, Envelopes.SCHEMA_VERSION);
            out.writeTag(PAYLOAD_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            out.writeUInt32NoTag(payloadSize);
            bytes(out, 1, payloadTable);
            if (recordId != 0) {
                out.writeInt64(2, recordId);
            }
            if (recordVersion != 0) {
                out.writeInt64(3, recordVersion);
            }
            for (int i = 0; i < entries; i++) {
                out.writeTag(VALUES_FIELD, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                out.writeUInt32NoTag(entrySizes[i]);
                out.writeByteArray(1, entryKeys[i]);
                out.writeMessage(2, entryValues[i]);
                entryValues[i] = null;
            }
            out.checkNoSpaceLeft();
        } catch (IOException e) {
            throw new UncheckedIOException("the envelope's size was computed wrong", e);
        }
    }

    /** A proto3 string field as bytes: absent when empty, as protobuf writes it. */
    private static int bytesSize(int field, byte[] value) {
        return value.length == 0 ? 0 : CodedOutputStream.computeByteArraySize(field, value);
    }

    private static void bytes(CodedOutputStream out, int field, byte[] value) throws IOException {
        if (value.length != 0) {
            out.writeByteArray(field, value);
        }
    }

    private static int int64Size(int field, long value) {
        return value == 0 ? 0 : CodedOutputStream.computeInt64Size(field, value);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
