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

    /** The method called; an internal service's unless a test says otherwise. */
    String fullMethodName = "linkbase.internal.v1.RecordService/GetRecord";

    @Override
    public MethodDescriptor<Q, R> getMethodDescriptor() {
        MethodDescriptor.Marshaller<Object> none = new MethodDescriptor.Marshaller<>() {
            @Override
            public java.io.InputStream stream(Object value) {
                throw new UnsupportedOperationException();
            }

            @Override
            public Object parse(java.io.InputStream stream) {
                throw new UnsupportedOperationException();
            }
        };
        @SuppressWarnings("unchecked")
        MethodDescriptor<Q, R> d = (MethodDescriptor<Q, R>) MethodDescriptor.newBuilder(none, none)
            .setType(MethodDescriptor.MethodType.UNARY).setFullMethodName(fullMethodName).build();
        return d;
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
