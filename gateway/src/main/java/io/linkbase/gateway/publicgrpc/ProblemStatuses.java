package io.linkbase.gateway.publicgrpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.errors.ProblemHandler;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.proto.internal.v1.FieldViolation;

/** Our problems as gRPC statuses: the HTTP API's status mapped to its gRPC code, with the same code and field errors. */
final class ProblemStatuses {
    private ProblemStatuses() {
    }

    /**
     * What the public API answers for a failure: our problem as its status; a service's status and
     * its ErrorInfo as they are, except when the connection to the service broke under the call
     * ({@link Calls#brokenConnection}): UNAVAILABLE, as the HTTP API's 503.
     */
    static Throwable relay(Throwable failure) {
        if (failure instanceof Problem p) {
            return toStatus(p);
        }
        if (failure instanceof StatusRuntimeException s && Calls.brokenConnection(s)) {
            return toStatus(ProblemHandler.fromGrpc(s));
        }
        return failure;
    }

    static StatusRuntimeException toStatus(Problem p) {
        Status.Code code = switch (p.status().getCode()) {
            case 400 -> Status.Code.INVALID_ARGUMENT;
            case 401 -> Status.Code.UNAUTHENTICATED;
            case 403 -> Status.Code.PERMISSION_DENIED;
            case 404 -> Status.Code.NOT_FOUND;
            case 409 -> "version_conflict".equals(p.code()) ? Status.Code.ABORTED : Status.Code.FAILED_PRECONDITION;
            case 413, 429 -> Status.Code.RESOURCE_EXHAUSTED;
            case 503 -> Status.Code.UNAVAILABLE;
            default -> Status.Code.INTERNAL;
        };
        return new ApiException(code, p.code(), p.getMessage(), p.errors().stream()
            .map(e -> FieldViolation.newBuilder().setField(e.field()).setMessage(e.message()).build()).toList())
            .toStatusException();
    }
}
