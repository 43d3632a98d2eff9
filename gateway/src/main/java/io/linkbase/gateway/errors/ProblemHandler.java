package io.linkbase.gateway.errors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.proto.internal.v1.ErrorInfo;
import io.linkbase.proto.internal.v1.FieldViolation;
import io.micronaut.context.annotation.Primary;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import io.micronaut.http.server.exceptions.response.ErrorResponseProcessor;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * The one place where failures become {@code application/problem+json}: our own
 * {@link Problem}s, the services' gRPC errors (by the API.md code they carry), and the
 * framework's own errors (unknown route, wrong method, body too large…).
 */
@Singleton
@Produces
@Primary
public class ProblemHandler implements ExceptionHandler<Problem, HttpResponse<?>>, ErrorResponseProcessor<String> {
    public static final String PROBLEM_JSON = "application/problem+json";
    private static final Logger LOG = LoggerFactory.getLogger(ProblemHandler.class);

    @Override
    public HttpResponse<?> handle(HttpRequest request, Problem problem) {
        return render(problem);
    }

    public static MutableHttpResponse<String> render(Problem p) {
        // built and written with Jackson alone: json/ raises Problems, so errors/ does not use json/
        ObjectNode body = JsonNodeFactory.instance.objectNode();
        body.put("type", "https://linkbase.dev/problems/" + p.code());
        body.put("title", p.status().getReason());
        body.put("status", p.status().getCode());
        body.put("detail", p.getMessage());
        body.put("code", p.code());
        if (!p.errors().isEmpty()) {
            ArrayNode errors = body.putArray("errors");
            p.errors().forEach(e -> errors.addObject().put("field", e.field()).put("message", e.message()));
        }
        MutableHttpResponse<String> response = HttpResponse.<String>status(p.status())
            .contentType(PROBLEM_JSON).body(body.toString()); // valid JSON since Jackson 2.10
        if (p.retryAfterSeconds() != null) {
            response.header("Retry-After", Long.toString(p.retryAfterSeconds()));
        }
        return response;
    }

    /** A service's gRPC failure as the problem it stands for. */
    public static Problem fromGrpc(StatusRuntimeException e) {
        ErrorInfo info = ApiException.infoOf(e);
        String code = info.getCode();
        List<Problem.FieldError> errors = new ArrayList<>();
        for (FieldViolation v : info.getErrorsList()) {
            errors.add(new Problem.FieldError(v.getField(), v.getMessage()));
        }
        String detail = e.getStatus().getDescription() == null ? code : e.getStatus().getDescription();
        HttpStatus status = switch (code) {
            case "validation_failed", "link_target_not_unique" -> HttpStatus.BAD_REQUEST;
            case "unauthorized" -> HttpStatus.UNAUTHORIZED;
            case "forbidden", "tenant_not_provisioned" -> HttpStatus.FORBIDDEN;
            case "not_found" -> HttpStatus.NOT_FOUND;
            case "conflict", "version_conflict", "link_target_in_use", "restricted_by_link" -> HttpStatus.CONFLICT;
            case "payload_too_large" -> HttpStatus.REQUEST_ENTITY_TOO_LARGE;
            // a size limit (400) or a count limit or quota (409), told apart by the gRPC status
            case "limit_exceeded" -> e.getStatus().getCode() == Status.Code.INVALID_ARGUMENT
                ? HttpStatus.BAD_REQUEST : HttpStatus.CONFLICT;
            case "rate_limited" -> HttpStatus.TOO_MANY_REQUESTS;
            default -> null;
        };
        if (status == null) {
            if (e.getStatus().getCode() == Status.Code.UNAVAILABLE || e.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED
                || Calls.brokenConnection(e)) {
                return new Problem(HttpStatus.SERVICE_UNAVAILABLE, "unavailable", "a service is not answering; retry");
            }
            LOG.error("unexpected service failure", e);
            return new Problem(HttpStatus.INTERNAL_SERVER_ERROR, "internal", "internal error");
        }
        return new Problem(status, code, detail, errors, null);
    }

    /** Errors the framework raises before our code runs. */
    @Override
    public MutableHttpResponse<String> processResponse(ErrorContext context, MutableHttpResponse<?> base) {
        HttpStatus status = base.getStatus();
        String code = switch (status) {
            case BAD_REQUEST -> "validation_failed";
            case UNAUTHORIZED -> "unauthorized";
            case FORBIDDEN -> "forbidden";
            case NOT_FOUND -> "not_found";
            case METHOD_NOT_ALLOWED -> "method_not_allowed";
            case REQUEST_ENTITY_TOO_LARGE -> "payload_too_large";
            case UNSUPPORTED_MEDIA_TYPE -> "unsupported_media_type";
            case NOT_ACCEPTABLE -> "not_acceptable";
            default -> status.getCode() >= 500 ? "internal" : "bad_request";
        };
        String detail = context.getErrors().isEmpty() ? status.getReason() : context.getErrors().get(0).getMessage();
        MutableHttpResponse<String> rendered = render(new Problem(status, code, detail));
        base.getHeaders().forEach((name, values) -> {
            if (!name.equalsIgnoreCase("content-type") && !name.equalsIgnoreCase("content-length")) {
                values.forEach(v -> rendered.header(name, v));
            }
        });
        if (closesConnection(status, context.getRootCause().orElse(null))) {
            rendered.header("Connection", "close");
        }
        return rendered;
    }

    /**
     * Whether the server closes the connection after this answer, so it must say so: a request
     * whose head was over the limits or could not be parsed leaves the connection unreadable, and a
     * body over the size limit is not read. Without {@code Connection: close} a client keeps the
     * connection for its next request, which then fails unanswered (a client retries only
     * idempotent requests; seen in CI as a POST after a 413).
     */
    static boolean closesConnection(HttpStatus status, Throwable cause) {
        if (status == HttpStatus.REQUEST_ENTITY_TOO_LARGE || status == HttpStatus.REQUEST_URI_TOO_LONG
            || status.getCode() == 431) {
            return true;
        }
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof io.netty.handler.codec.DecoderException) {
                return true; // Netty's decoder failed on the request itself (TooLongFrameException is one)
            }
        }
        return false;
    }
}
