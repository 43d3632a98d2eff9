package io.linkbase.gateway.json;

import io.linkbase.gateway.errors.ProblemHandler;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;

/**
 * Body sizes per endpoint (docs/limits.md): the server reads at most the batch limit
 * ({@code micronaut.server.max-request-size}); every other endpoint takes at most
 * {@link Limits#MAX_BODY_BYTES}. A declared Content-Length over that is answered 413 here,
 * before the body is read; a chunked body is measured once read ({@link Json#object}).
 */
@ServerFilter("/api/**")
public class BodySizeFilter {
    @RequestFilter
    @Nullable
    public HttpResponse<?> filter(HttpRequest<?> request) {
        long length = request.getContentLength();
        if (length <= Limits.MAX_BODY_BYTES) {
            return null;
        }
        int max = request.getPath().endsWith("/records/batch") ? Limits.MAX_BATCH_BODY_BYTES : Limits.MAX_BODY_BYTES;
        return length > max ? ProblemHandler.render(Limits.tooLarge(max, length)) : null;
    }
}
