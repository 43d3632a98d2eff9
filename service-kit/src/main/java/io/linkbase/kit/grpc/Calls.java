package io.linkbase.kit.grpc;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.Supplier;

/** Runs a unary call and turns its outcome into a response or a well-formed gRPC error. */
public final class Calls {
    private static final Logger LOG = LoggerFactory.getLogger(Calls.class);

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
            LOG.error("internal error", e);
            observer.onError(Status.INTERNAL.withDescription("internal error").asRuntimeException());
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }
}
