package io.linkbase.schema.api;

import io.grpc.Status;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.proto.internal.v1.FieldViolation;
import io.linkbase.schema.table.TableRefusal;
import io.grpc.stub.StreamObserver;

import java.util.List;
import java.util.function.Supplier;

/**
 * The one place a refused table command becomes a transport error: a {@link TableRefusal}'s
 * kind picks the gRPC status (which the gateway turns into the HTTP status of API.md), its code
 * and field go into the error details.
 */
final class Refusals {
    private Refusals() {
    }

    static ApiException toApi(TableRefusal r) {
        Status.Code status = switch (r.kind()) {
            case NOT_FOUND -> Status.Code.NOT_FOUND;
            case INVALID -> Status.Code.INVALID_ARGUMENT;
            case CONFLICT, LIMIT_EXCEEDED -> Status.Code.FAILED_PRECONDITION;
            case ALREADY_EXISTS -> Status.Code.ALREADY_EXISTS;
        };
        List<FieldViolation> violations = r.field() == null ? List.of()
            : List.of(FieldViolation.newBuilder().setField(r.field()).setMessage(r.detail()).build());
        return new ApiException(status, r.code(), r.getMessage(), violations);
    }

    /** {@link Calls#unary} for a call that runs table commands. */
    static <T> void unary(StreamObserver<T> observer, Supplier<T> call) {
        Calls.unary(observer, () -> {
            try {
                return call.get();
            } catch (TableRefusal r) {
                throw toApi(r);
            }
        });
    }
}
