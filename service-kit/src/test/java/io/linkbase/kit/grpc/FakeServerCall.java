package io.linkbase.kit.grpc;

import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.Status;

import java.util.concurrent.atomic.AtomicBoolean;

/** A server call that records how an interceptor closed it; no transport involved. */
final class FakeServerCall<Q, R> extends ServerCall<Q, R> {
    Status closedWith;
    Metadata closedTrailers;

    @Override
    public void request(int numMessages) {
    }

    @Override
    public void sendHeaders(Metadata headers) {
    }

    @Override
    public void sendMessage(R message) {
    }

    @Override
    public void close(Status status, Metadata trailers) {
        closedWith = status;
        closedTrailers = trailers;
    }

    @Override
    public boolean isCancelled() {
        return false;
    }

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
        return null;
    }

    /** A handler that runs {@code inCall} when the call starts (in the interceptor's context). */
    static <Q, R> ServerCallHandler<Q, R> handler(AtomicBoolean started, Runnable inCall) {
        return (call, headers) -> {
            started.set(true);
            inCall.run();
            return new ServerCall.Listener<>() {
            };
        };
    }
}
