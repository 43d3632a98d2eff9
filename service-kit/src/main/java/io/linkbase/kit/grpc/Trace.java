package io.linkbase.kit.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import jakarta.inject.Singleton;
import org.slf4j.MDC;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;

/**
 * W3C trace context across the services: the {@code traceparent} of an incoming call (or a new
 * one) is kept in the gRPC context, put in the log MDC with the tenant while the call runs,
 * stamped on the events it causes as their correlation id, and sent on as a {@code traceparent}
 * Kafka header by the outbox relay.
 */
@Singleton
public class Trace implements ServerInterceptor {
    public static final Metadata.Key<String> METADATA_KEY = Metadata.Key.of("traceparent", Metadata.ASCII_STRING_MARSHALLER);
    public static final String KAFKA_HEADER = "traceparent";
    private static final java.util.HexFormat HEX = java.util.HexFormat.of();
    private static final Context.Key<String> TRACE_ID = Context.key("linkbase-trace-id");
    private static final Pattern TRACEPARENT = Pattern.compile("00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}");
    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

    /** The current call's trace id, or "" outside a call. */
    public static String currentTraceId() {
        String id = TRACE_ID.get();
        return id == null ? "" : id;
    }

    /** The trace id of a {@code traceparent} value, or a new one when it is absent or malformed. */
    public static String traceIdOf(String traceparent) {
        if (traceparent != null) {
            var m = TRACEPARENT.matcher(traceparent.trim());
            if (m.matches() && !m.group(1).equals("0".repeat(32))) {
                return m.group(1);
            }
        }
        return hex(16);
    }

    /** A {@code traceparent} for a new span of {@code traceId}; null when it is not a trace id. */
    public static String traceparent(String traceId) {
        if (traceId == null) {
            return null;
        }
        byte[] parent = traceparentBytes(traceId.getBytes(StandardCharsets.ISO_8859_1));
        return parent == null ? null : new String(parent, StandardCharsets.ISO_8859_1);
    }

    /**
     * As {@link #traceparent(String)}, from and to ASCII bytes: the outbox relay stamps one on
     * every event it publishes (a regular expression and a hex formatter here were a seventh of
     * the relay's CPU during an import).
     */
    public static byte[] traceparentBytes(byte[] traceId) {
        if (traceId == null || traceId.length != 32) {
            return null;
        }
        for (byte b : traceId) {
            if (!((b >= '0' && b <= '9') || (b >= 'a' && b <= 'f'))) {
                return null;
            }
        }
        byte[] out = new byte[55]; // 00-<32>-<16>-01
        out[0] = '0';
        out[1] = '0';
        out[2] = '-';
        System.arraycopy(traceId, 0, out, 3, 32);
        out[35] = '-';
        long span = ThreadLocalRandom.current().nextLong();
        for (int i = 0; i < 16; i++) {
            out[36 + i] = HEX_DIGITS[(int) (span >>> (60 - 4 * i)) & 0xf];
        }
        out[52] = '-';
        out[53] = '0';
        out[54] = '1';
        return out;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        String traceId = traceIdOf(headers.get(METADATA_KEY));
        String tenant = headers.get(Tenants.METADATA_KEY);
        Context context = Context.current().withValue(TRACE_ID, traceId);
        ServerCall.Listener<Q> listener = Contexts.interceptCall(context, call, headers, next);
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
            @Override
            public void onMessage(Q message) {
                withMdc(() -> super.onMessage(message));
            }

            @Override
            public void onHalfClose() {
                withMdc(super::onHalfClose);
            }

            private void withMdc(Runnable r) {
                MDC.put("trace_id", traceId);
                if (tenant != null) {
                    MDC.put("tenant", tenant);
                }
                try {
                    r.run();
                } finally {
                    MDC.remove("trace_id");
                    MDC.remove("tenant");
                }
            }
        };
    }

    private static String hex(int bytes) {
        byte[] random = new byte[bytes];
        ThreadLocalRandom.current().nextBytes(random);
        return HEX.formatHex(random);
    }
}
