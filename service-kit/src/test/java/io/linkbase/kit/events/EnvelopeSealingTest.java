package io.linkbase.kit.events;

import com.google.protobuf.Descriptors;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.events.v1.TenantProvisioned;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.HashSet;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Naming, sealing and keying of envelopes: what every producer and consumer relies on. */
class EnvelopeSealingTest {
    private static final Instant AT = Instant.parse("2026-11-30T12:34:56.123456789Z");

    @Test
    void theEventTypeOfEveryPayloadIsItsMessageName() {
        // events.proto: event_type "equals the payload's case name in PascalCase"; every payload
        // message is named so, which makes the message name an independent oracle.
        Set<String> names = new HashSet<>();
        for (EventEnvelope.PayloadCase c : EventEnvelope.PayloadCase.values()) {
            if (c == EventEnvelope.PayloadCase.PAYLOAD_NOT_SET) {
                continue;
            }
            Descriptors.FieldDescriptor field = EventEnvelope.getDescriptor().findFieldByNumber(c.getNumber());
            assertThat(Envelopes.typeOf(c)).as(c.name()).isEqualTo(field.getMessageType().getName());
            names.add(Envelopes.typeOf(c));
        }
        assertThat(names).hasSize(EventEnvelope.PayloadCase.values().length - 1).contains("ColumnTypeChanged");
        assertThat(Envelopes.typeOf(EventEnvelope.PayloadCase.PAYLOAD_NOT_SET)).isEqualTo("Unknown");
    }

    @Test
    void sealingFillsIdsTypeTimeAndVersionsAndKeepsThePayload() {
        EventEnvelope.Builder payload = EventEnvelope.newBuilder()
            .setColumnLinked(ColumnLinked.newBuilder().setColumnId("c1").setTargetTableId("t2"));
        EventEnvelope e = Envelopes.seal(payload, "acme", "t1", 12, "req-7", "evt-3", AT);

        assertThat(UUID.fromString(e.getEventId()).toString()).isEqualTo(e.getEventId());
        assertThat(e.getEventType()).isEqualTo("ColumnLinked");
        assertThat(e.getTenantId()).isEqualTo("acme");
        assertThat(e.getAggregateId()).isEqualTo("t1");
        assertThat(e.getAggregateVersion()).isEqualTo(12);
        assertThat(e.getCorrelationId()).isEqualTo("req-7");
        assertThat(e.getCausationId()).isEqualTo("evt-3");
        assertThat(e.getSchemaVersion()).isEqualTo(Envelopes.SCHEMA_VERSION).isEqualTo(1);
        assertThat(Envelopes.occurredAt(e)).isEqualTo(AT); // to the nanosecond
        assertThat(e.getColumnLinked().getTargetTableId()).isEqualTo("t2");
        assertThat(Envelopes.parse(e.toByteArray())).isEqualTo(e);
    }

    @Test
    void everySealedEventGetsAnIdOfItsOwn() {
        Set<String> ids = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            ids.add(Envelopes.seal(EventEnvelope.newBuilder().setRecordDeleted(RecordDeleted.newBuilder().setRecordId(i)),
                "acme", "t1", i + 1, "req", "", AT).getEventId());
        }
        assertThat(ids).hasSize(100);
    }

    @Test
    void withoutACorrelationIdAnEventStartsItsOwnChainAndNoCausationIsEmpty() {
        for (String none : new String[] {null, ""}) {
            EventEnvelope e = Envelopes.seal(EventEnvelope.newBuilder()
                    .setTenantProvisioned(TenantProvisioned.getDefaultInstance()),
                "acme", Envelopes.TENANT_AGGREGATE, 1, none, null, AT);
            assertThat(e.getCorrelationId()).isEqualTo(e.getEventId()).isNotEmpty();
            assertThat(e.getCausationId()).isEmpty();
            assertThat(e.getEventType()).isEqualTo("TenantProvisioned");
        }
    }

    @Test
    void theKafkaKeyIsTenantSlashAggregateSoOneAggregateStaysOnOnePartition() {
        EventEnvelope a = Envelopes.seal(EventEnvelope.newBuilder()
            .setRecordDeleted(RecordDeleted.newBuilder().setRecordId(1)), "acme", "t1", 1, "", "", AT);
        EventEnvelope b = Envelopes.seal(EventEnvelope.newBuilder()
            .setRecordDeleted(RecordDeleted.newBuilder().setRecordId(2)), "acme", "t1", 2, "", "", AT);
        assertThat(Envelopes.kafkaKey(a)).isEqualTo("acme/t1").isEqualTo(Envelopes.kafkaKey(b));
        // the same aggregate id in another tenant is another key
        assertThat(Envelopes.kafkaKey(a.toBuilder().setTenantId("other").build())).isEqualTo("other/t1");
    }

    @Test
    void parsingBytesThatAreNotAnEnvelopeIsRefused() {
        assertThatThrownBy(() -> Envelopes.parse(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff}))
            .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("not an EventEnvelope");
    }
}
