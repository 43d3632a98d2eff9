package io.linkbase.kit.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/** Runs a unary call and turns its outcome into a response or a well-formed gRPC error. */
public final class Calls {
    private static final Logger LOG = LoggerFactory.getLogger(Calls.class);
    private static final java.util.concurrent.atomic.AtomicLong LAST_UNAVAILABLE_LOG =
        new java.util.concurrent.atomic.AtomicLong(System.nanoTime() - 20_000_000_000L);

    private Calls() {
    }

    public static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
        T result;
        try {
            result = call.get();
        } catch (ApiException e) {
            observer.onError(e.toStatusException());
            return;
        } catch (RuntimeException e) {
            observer.onError(unexpected(e));
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }

    /**
     * What a caller gets for a failure that is not an {@link ApiException}: UNAVAILABLE ("retry")
     * when a server this service needs is down or restarting (PostgreSQL, OpenSearch, Kafka: the
     * gateway answers 503), INTERNAL otherwise. One place, so a server restart never shows as a
     * 500 (docs/reliability.md).
     */
    public static io.grpc.StatusRuntimeException unexpected(Throwable e) {
        if (e instanceof io.grpc.StatusRuntimeException s && !brokenConnection(s)) {
            return s;
        }
        if (io.linkbase.kit.consumer.Failures.isTransient(e, null)) {
            long now = System.nanoTime();
            long last = LAST_UNAVAILABLE_LOG.get();
            // once per 10 s: during an outage every call fails alike (health says so too)
            if (now - last > 10_000_000_000L && LAST_UNAVAILABLE_LOG.compareAndSet(last, now)) {
                LOG.warn("a server this service needs is not answering (calls answer UNAVAILABLE): {}",
                    io.linkbase.kit.consumer.Failures.reason(e));
            }
            return Status.UNAVAILABLE.withDescription("a server this service needs is not answering; retry")
                .asRuntimeException();
        }
        LOG.error("internal error", e);
        return Status.INTERNAL.withDescription("internal error").asRuntimeException();
    }

    /**
     * Whether a failed call's status is not the called service's answer but its own transport's
     * verdict on a connection that broke under the call (the service killed or restarting): a
     * status received from a server never carries a cause, one made here from a closed channel
     * does, and gRPC's Netty transport may make it UNKNOWN "channel closed" or INTERNAL rather than
     * UNAVAILABLE (grpc/grpc-java#10474). Such a call is worth retrying: the gateway answers 503.
     */
    public static boolean brokenConnection(io.grpc.StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        return (code == Status.Code.UNKNOWN || code == Status.Code.INTERNAL)
            && e.getStatus().getCause() != null
            && io.linkbase.kit.consumer.Failures.isTransient(e.getStatus().getCause(), null);
    }
}
