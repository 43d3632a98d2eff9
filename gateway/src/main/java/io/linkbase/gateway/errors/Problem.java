package io.linkbase.gateway.errors;

import io.micronaut.http.HttpStatus;

import java.util.List;

/**
 * An error answered as {@code application/problem+json} with a machine-readable code
 * (API.md "Errors"). Thrown anywhere in the gateway; rendered once by {@link ProblemHandler}.
 */
public final class Problem extends RuntimeException {
    public record FieldError(String field, String message) {
    }

    private final HttpStatus status;
    private final String code;
    private final List<FieldError> errors;
    private final Long retryAfterSeconds;

    public Problem(HttpStatus status, String code, String detail, List<FieldError> errors, Long retryAfterSeconds) {
        super(detail, null, false, false);
        this.status = status;
        this.code = code;
        this.errors = List.copyOf(errors);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public Problem(HttpStatus status, String code, String detail) {
        this(status, code, detail, List.of(), null);
    }

    public static Problem invalid(String field, String message) {
        return new Problem(HttpStatus.BAD_REQUEST, "validation_failed", field + ": " + message,
            List.of(new FieldError(field, message)), null);
    }

    /** A size or range limit of docs/limits.md: 400 {@code limit_exceeded}; the message says the limit and the figure. */
    public static Problem limit(String field, String message) {
        return new Problem(HttpStatus.BAD_REQUEST, "limit_exceeded", field + ": " + message,
            List.of(new FieldError(field, message)), null);
    }

    public static Problem notFound(String what) {
        return new Problem(HttpStatus.NOT_FOUND, "not_found", what + " not found");
    }

    public HttpStatus status() {
        return status;
    }

    public String code() {
        return code;
    }

    public List<FieldError> errors() {
        return errors;
    }

    public Long retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
