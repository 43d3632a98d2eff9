package io.linkbase.kit.grpc;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** W3C trace context: which traceparents are taken, what is made otherwise, what the logs see. */
class TraceTest {
    private static final String ID = "4bf92f3577b34da6a3ce929d0e0e4736";
    private static final String TRACEPARENT = "00-" + ID + "-00f067aa0ba902b7-01";

    @Test
    void aWellFormedTraceparentGivesItsTraceId() {
        assertThat(Trace.traceIdOf(TRACEPARENT)).isEqualTo(ID);
        assertThat(Trace.traceIdOf("  " + TRACEPARENT + " ")).isEqualTo(ID);
        assertThat(Trace.traceIdOf("00-" + ID + "-00f067aa0ba902b7-00")).isEqualTo(ID); // not sampled: same trace
    }

    @Test
    void aMissingOrMalformedTraceparentStartsANewTrace() {
        String[] bad = {null, "", "garbage", TRACEPARENT.toUpperCase(), "01-" + ID + "-00f067aa0ba902b7-01",
            "00-" + "0".repeat(32) + "-00f067aa0ba902b7-01", "00-" + ID.substring(1) + "-00f067aa0ba902b7-01",
            "00-" + ID + "-00f067aa0ba902b7"};
        for (String traceparent : bad) {
            String id = Trace.traceIdOf(traceparent);
            // a new id: not the (invalid) one the header carried
            assertThat(id).as(String.valueOf(traceparent)).matches("[0-9a-f]{32}").isNotEqualTo(ID)
                .isNotEqualTo("0".repeat(32));
            assertThat(traceparent == null || !traceparent.contains(id)).as(String.valueOf(traceparent)).isTrue();
        }
        assertThat(Trace.traceIdOf(null)).isNotEqualTo(Trace.traceIdOf(null));
    }

    @Test
    void aNewSpanKeepsTheTraceIdAndOnlyATraceIdMakesOne() {
        String traceparent = Trace.traceparent(ID);
        assertThat(traceparent).matches("00-" + ID + "-[0-9a-f]{16}-01");
        assertThat(Trace.traceIdOf(traceparent)).isEqualTo(ID);
        assertThat(Trace.traceparent(ID)).isNotEqualTo(traceparent); // a new span id each time
        assertThat(Trace.traceparent(null)).isNull();
        assertThat(Trace.traceparent("")).isNull();
        assertThat(Trace.traceparent(ID.toUpperCase())).isNull();
        assertThat(Trace.traceparent("corr-1")).isNull(); // a correlation id that is no trace id
        assertThat(new String(Trace.traceparentBytes(ID.getBytes(java.nio.charset.StandardCharsets.US_ASCII)),
            java.nio.charset.StandardCharsets.US_ASCII)).matches("00-" + ID + "-[0-9a-f]{16}-01");
        assertThat(Trace.traceparentBytes(null)).isNull();
        assertThat(Trace.traceparentBytes("g".repeat(32).getBytes(java.nio.charset.StandardCharsets.US_ASCII))).isNull();
    }

    @Test
    void theCallSeesItsTraceIdAndItsLogsCarryTraceAndTenant() {
        Metadata headers = new Metadata();
        headers.put(Trace.METADATA_KEY, TRACEPARENT);
        headers.put(Tenants.METADATA_KEY, "acme");
        AtomicReference<String> inStart = new AtomicReference<>();
        Map<String, String> inMessage = new HashMap<>();
        ServerCall.Listener<String> listener = new Trace().interceptCall(new FakeServerCall<String, String>(), headers,
            (call, h) -> {
                inStart.set(Trace.currentTraceId());
                return new ServerCall.Listener<>() {
                    @Override
                    public void onMessage(String message) {
                        inMessage.put("trace_id", MDC.get("trace_id"));
                        inMessage.put("tenant", MDC.get("tenant"));
                        inMessage.put("current", Trace.currentTraceId());
                    }
                };
            });
        assertThat(inStart.get()).isEqualTo(ID);
        listener.onMessage("q");
        assertThat(inMessage).containsEntry("trace_id", ID).containsEntry("tenant", "acme").containsEntry("current", ID);
        assertThat(MDC.get("trace_id")).isNull(); // cleared after the message
        assertThat(MDC.get("tenant")).isNull();
        assertThat(Trace.currentTraceId()).isEmpty(); // outside a call
    }
}
