package io.linkbase.kit.events;

import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.proto.v1.Value;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EnvelopesTest {
    @Test
    void headersReadFromBytesEqualThoseOfTheParsedEnvelope() {
        EventEnvelope e = Envelopes.seal(EventEnvelope.newBuilder().setRecordUpserted(RecordUpserted.newBuilder()
                .setTableId("t1").setRecordId(42).setRecordVersion(3)
                .putValues("c1", Value.newBuilder().setText("héllo\tworld").build())),
            "tenant-ä", "t1", 7, "corr-1", "causing-event", java.time.Instant.now());
        Map<String, byte[]> fromBytes = Envelopes.headers(e.toByteArray());
        Map<String, byte[]> fromParsed = Envelopes.headers(e);
        assertThat(fromBytes.keySet()).containsExactlyElementsOf(fromParsed.keySet());
        fromParsed.forEach((k, v) -> assertThat(fromBytes.get(k)).as(k).isEqualTo(v));
        assertThat(new String(fromBytes.get(Envelopes.H_AGGREGATE_VERSION))).isEqualTo("7");
    }

    @Test
    void anEnvelopeWithoutOptionalFieldsGetsTheParsedDefaults() {
        EventEnvelope e = EventEnvelope.newBuilder().setEventId("x").build();
        Map<String, byte[]> fromBytes = Envelopes.headers(e.toByteArray());
        Envelopes.headers(e).forEach((k, v) -> assertThat(fromBytes.get(k)).as(k).isEqualTo(v));
    }

    @Test
    void bytesThatAreNotAnEnvelopeAreRefused() {
        assertThatThrownBy(() -> Envelopes.headers(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01}))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not an EventEnvelope");
        assertThatThrownBy(() -> Envelopes.headers(new byte[] {0x0a, 0x05, 'a'})) // a string cut short
            .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Envelopes.headers(new byte[] {0x28, 0x0a, 0x01})) // field 5 as a string
            .isInstanceOf(IllegalArgumentException.class);
    }
}
