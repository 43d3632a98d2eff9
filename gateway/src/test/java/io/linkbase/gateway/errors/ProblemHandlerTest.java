package io.linkbase.gateway.errors;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import java.nio.channels.ClosedChannelException;

import static org.assertj.core.api.Assertions.assertThat;

/** How a service call's failure reaches the client: a service that is away is 503 ("retry"), never 500. */
class ProblemHandlerTest {

    @Test
    void aServiceThatIsAwayIs503WhicheverWayTheTransportSaysIt() {
        assertThat(ProblemHandler.fromGrpc(Status.UNAVAILABLE.withDescription("io exception").asRuntimeException()).status().getCode())
            .isEqualTo(503);
        assertThat(ProblemHandler.fromGrpc(Status.DEADLINE_EXCEEDED.asRuntimeException()).status().getCode())
            .isEqualTo(503);
        // search-service killed while the gateway wrote to it: Netty's transport says UNKNOWN
        // "channel closed" (grpc/grpc-java#10474), as Utils.statusFromThrowable builds it
        ClosedChannelException closed = new ClosedChannelException();
        closed.initCause(new java.io.IOException("Connection reset by peer"));
        Problem p = ProblemHandler.fromGrpc(Status.UNKNOWN.withDescription("channel closed").withCause(closed).asRuntimeException());
        assertThat(p.status().getCode()).isEqualTo(503);
        assertThat(p.code()).isEqualTo("unavailable");
    }

    @Test
    void aServicesOwnFailureIs500() {
        // what a service sends (Calls.unexpected's INTERNAL, or UNKNOWN from a handler that threw) has no local cause
        assertThat(ProblemHandler.fromGrpc(Status.INTERNAL.withDescription("internal error").asRuntimeException()).status().getCode())
            .isEqualTo(500);
        assertThat(ProblemHandler.fromGrpc(Status.UNKNOWN.asRuntimeException()).status().getCode())
            .isEqualTo(500);
    }

    @Test
    void anAnswerAfterWhichTheConnectionIsClosedSaysSo() {
        assertThat(ProblemHandler.closesConnection(io.micronaut.http.HttpStatus.REQUEST_ENTITY_TOO_LARGE, null)).isTrue();
        assertThat(ProblemHandler.closesConnection(io.micronaut.http.HttpStatus.BAD_REQUEST,
            new io.netty.handler.codec.DecoderException("invalid request line"))).isTrue();
        assertThat(ProblemHandler.closesConnection(io.micronaut.http.HttpStatus.BAD_REQUEST, null)).isFalse();
        assertThat(ProblemHandler.closesConnection(io.micronaut.http.HttpStatus.NOT_FOUND, null)).isFalse();
    }
}
