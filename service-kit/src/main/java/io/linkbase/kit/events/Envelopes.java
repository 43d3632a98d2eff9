package io.linkbase.kit.events;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import com.google.protobuf.Timestamp;
import io.linkbase.proto.events.v1.EventEnvelope;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;

/** Builds, names and reads event envelopes; the wire format is protobuf, built explicitly. */
public final class Envelopes {
    public static final int SCHEMA_VERSION = 1;
    /** The aggregate id of tenant-level events (e.g. TenantProvisioned). */
    public static final String TENANT_AGGREGATE = "_tenant";

    public static final String H_EVENT_ID = "event_id";
    public static final String H_EVENT_TYPE = "event_type";
    public static final String H_TENANT_ID = "tenant_id";
    public static final String H_AGGREGATE_ID = "aggregate_id";
    public static final String H_AGGREGATE_VERSION = "aggregate_version";
    public static final String H_CORRELATION_ID = "correlation_id";
    public static final String H_CAUSATION_ID = "causation_id";
    public static final String H_SCHEMA_VERSION = "schema_version";

    private Envelopes() {
    }

    /**
     * The stable logical name of the payload ("ColumnLinked"), derived from the proto field
     * name of the oneof case, which is part of the versioned wire contract.
     */
    public static String typeOf(EventEnvelope.PayloadCase payloadCase) {
        return TYPE_NAMES.get(payloadCase);
    }

    private static final java.util.Map<EventEnvelope.PayloadCase, String> TYPE_NAMES = typeNames();

    private static java.util.Map<EventEnvelope.PayloadCase, String> typeNames() {
        java.util.Map<EventEnvelope.PayloadCase, String> names = new java.util.EnumMap<>(EventEnvelope.PayloadCase.class);
        for (EventEnvelope.PayloadCase payloadCase : EventEnvelope.PayloadCase.values()) {
            if (payloadCase == EventEnvelope.PayloadCase.PAYLOAD_NOT_SET) {
                names.put(payloadCase, "Unknown");
                continue;
            }
            StringBuilder name = new StringBuilder();
            for (String part : payloadCase.name().toLowerCase(Locale.ROOT).split("_")) {
                name.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
            names.put(payloadCase, name.toString());
        }
        return names;
    }

    /** Fills the envelope's ids, time and type; the payload must be set on {@code payload}. */
    public static EventEnvelope seal(EventEnvelope.Builder payload, String tenantId, String aggregateId,
                                     long aggregateVersion, String correlationId, String causationId,
                                     Instant occurredAt) {
        return seal(payload, UUID.randomUUID().toString(), tenantId, aggregateId, aggregateVersion, correlationId,
            causationId, occurredAt);
    }

    /**
     * As above with the event id given (a service that seals many events at once may draw ids from
     * a faster source than {@link UUID#randomUUID()}); the correlation id defaults to the event's own.
     */
    public static EventEnvelope seal(EventEnvelope.Builder payload, String eventId, String tenantId, String aggregateId,
                                     long aggregateVersion, String correlationId, String causationId,
                                     Instant occurredAt) {
        return payload
            .setEventId(eventId)
            .setEventType(typeOf(payload.getPayloadCase()))
            .setTenantId(tenantId)
            .setAggregateId(aggregateId)
            .setAggregateVersion(aggregateVersion)
            .setOccurredAt(Timestamp.newBuilder()
                .setSeconds(occurredAt.getEpochSecond())
                .setNanos(occurredAt.getNano()))
            .setCorrelationId(correlationId == null || correlationId.isEmpty() ? eventId : correlationId)
            .setCausationId(causationId == null ? "" : causationId)
            .setSchemaVersion(SCHEMA_VERSION)
            .build();
    }

    public static String kafkaKey(EventEnvelope envelope) {
        return envelope.getTenantId() + "/" + envelope.getAggregateId();
    }

    /** Kafka headers repeating the envelope's ids, so routing and tracing need not parse it. */
    public static Map<String, byte[]> headers(EventEnvelope envelope) {
        Map<String, byte[]> headers = new LinkedHashMap<>();
        headers.put(H_EVENT_ID, utf8(envelope.getEventId()));
        headers.put(H_EVENT_TYPE, utf8(envelope.getEventType()));
        headers.put(H_TENANT_ID, utf8(envelope.getTenantId()));
        headers.put(H_AGGREGATE_ID, utf8(envelope.getAggregateId()));
        headers.put(H_AGGREGATE_VERSION, utf8(Long.toString(envelope.getAggregateVersion())));
        headers.put(H_CORRELATION_ID, utf8(envelope.getCorrelationId()));
        headers.put(H_CAUSATION_ID, utf8(envelope.getCausationId()));
        headers.put(H_SCHEMA_VERSION, utf8(Integer.toString(envelope.getSchemaVersion())));
        return headers;
    }

    /**
     * The Kafka headers of a serialized envelope, as {@link #headers(EventEnvelope)} gives them,
     * read by scanning its fields without building the payload (the outbox relay publishes
     * bytes it does not otherwise need to understand: a million-row import must not pay a full
     * parse per event). The payload's bytes are skipped, not checked; consumers check them.
     *
     * @throws IllegalArgumentException if the bytes are not an envelope's wire format
     */
    public static Map<String, byte[]> headers(byte[] bytes) {
        byte[][] values = headerValues(bytes);
        Map<String, byte[]> headers = new LinkedHashMap<>();
        for (int i = 0; i < HEADER_NAMES.size(); i++) {
            headers.put(HEADER_NAMES.get(i), values[i]);
        }
        return headers;
    }

    /** The names of {@link #headers}, in their order. */
    public static final List<String> HEADER_NAMES = List.of(H_EVENT_ID, H_EVENT_TYPE, H_TENANT_ID, H_AGGREGATE_ID,
        H_AGGREGATE_VERSION, H_CORRELATION_ID, H_CAUSATION_ID, H_SCHEMA_VERSION);

    /**
     * As {@link #headers(byte[])}, the values only, in the order of {@link #HEADER_NAMES} (the
     * outbox relay's form: a map per published event was a tenth of its CPU during an import).
     */
    public static byte[][] headerValues(byte[] bytes) {
        byte[][] text = new byte[9][];
        long version = 0;
        int schemaVersion = 0;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                int field = WireFormat.getTagFieldNumber(tag);
                int wire = WireFormat.getTagWireType(tag);
                switch (field) {
                    case 1, 2, 3, 4, 7, 8 -> {
                        expect(wire, WireFormat.WIRETYPE_LENGTH_DELIMITED, field);
                        text[field] = in.readByteArray();
                    }
                    case 5 -> {
                        expect(wire, WireFormat.WIRETYPE_VARINT, field);
                        version = in.readInt64();
                    }
                    case 9 -> {
                        expect(wire, WireFormat.WIRETYPE_VARINT, field);
                        schemaVersion = in.readInt32();
                    }
                    default -> {
                        if (!in.skipField(tag)) {
                            throw new InvalidProtocolBufferException("an end-group tag where none was open");
                        }
                    }
                }
            }
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not an EventEnvelope: " + e.getMessage(), e);
        }
        return new byte[][] {orEmpty(text[1]), orEmpty(text[2]), orEmpty(text[3]), orEmpty(text[4]),
            utf8(Long.toString(version)), orEmpty(text[7]), orEmpty(text[8]), utf8(Integer.toString(schemaVersion))};
    }

    private static void expect(int wire, int expected, int field) throws InvalidProtocolBufferException {
        if (wire != expected) {
            throw new InvalidProtocolBufferException("field " + field + " has wire type " + wire + ", not " + expected);
        }
    }

    private static byte[] orEmpty(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    public static EventEnvelope parse(byte[] bytes) {
        try {
            return EventEnvelope.parseFrom(bytes);
        } catch (InvalidProtocolBufferException e) {
            throw new IllegalArgumentException("not an EventEnvelope: " + e.getMessage(), e);
        }
    }

    public static Instant occurredAt(EventEnvelope envelope) {
        return Instant.ofEpochSecond(envelope.getOccurredAt().getSeconds(), envelope.getOccurredAt().getNanos());
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
