package io.linkbase.kit.grpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.linkbase.proto.internal.v1.ErrorInfo;
import io.linkbase.proto.internal.v1.FieldViolation;

import java.util.List;

/**
 * A failure a caller can act on: a gRPC status plus the API.md error code, carried in the
 * trailers as {@link ErrorInfo} so the gateway maps it to problem+json in one place.
 */
public final class ApiException extends RuntimeException {
    public static final Metadata.Key<ErrorInfo> ERROR_INFO_KEY = ProtoUtils.keyForProto(ErrorInfo.getDefaultInstance());

    private final Status.Code statusCode;
    private final ErrorInfo info;

    public ApiException(Status.Code statusCode, String code, String message, List<FieldViolation> violations) {
        super(message);
        this.statusCode = statusCode;
        this.info = ErrorInfo.newBuilder().setCode(code).addAllErrors(violations).build();
    }

    public static ApiException invalid(String field, String message) {
        return new ApiException(Status.Code.INVALID_ARGUMENT, "validation_failed", field + ": " + message,
            List.of(FieldViolation.newBuilder().setField(field).setMessage(message).build()));
    }

    public static ApiException notFound(String what) {
        return new ApiException(Status.Code.NOT_FOUND, "not_found", what + " not found", List.of());
    }

    public static ApiException conflict(String code, String message) {
        return new ApiException(Status.Code.FAILED_PRECONDITION, code, message, List.of());
    }

    public static ApiException unauthenticated(String message) {
        return new ApiException(Status.Code.UNAUTHENTICATED, "unauthorized", message, List.of());
    }

    public String code() {
        return info.getCode();
    }

    public ErrorInfo info() {
        return info;
    }

    public Status status() {
        return Status.fromCode(statusCode).withDescription(getMessage());
    }

    public Metadata trailers() {
        Metadata trailers = new Metadata();
        trailers.put(ERROR_INFO_KEY, info);
        return trailers;
    }

    public StatusRuntimeException toStatusException() {
        return status().asRuntimeException(trailers());
    }

    /** Reads the error code a service attached to a failed call ("internal" when none). */
    public static ErrorInfo infoOf(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        ErrorInfo info = trailers == null ? null : trailers.get(ERROR_INFO_KEY);
        return info != null ? info : ErrorInfo.newBuilder().setCode("internal").build();
    }
}
