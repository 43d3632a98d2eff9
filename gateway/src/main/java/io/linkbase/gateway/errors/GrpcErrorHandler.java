package io.linkbase.gateway.errors;

import io.grpc.StatusRuntimeException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import jakarta.inject.Singleton;

/** A service refused or failed: answer with the problem its error code stands for. */
@Singleton
@Produces
class GrpcErrorHandler implements ExceptionHandler<StatusRuntimeException, HttpResponse<?>> {
    @Override
    public HttpResponse<?> handle(HttpRequest request, StatusRuntimeException exception) {
        return ProblemHandler.render(ProblemHandler.fromGrpc(exception));
    }
}
