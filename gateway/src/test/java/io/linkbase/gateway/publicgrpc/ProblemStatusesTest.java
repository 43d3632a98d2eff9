package io.linkbase.gateway.publicgrpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.linkbase.kit.grpc.ApiException;
import org.junit.jupiter.api.Test;

import java.nio.channels.ClosedChannelException;

import static org.assertj.core.api.Assertions.assertThat;

/** What the public gRPC API answers when a service call fails: as the HTTP API does. */
class ProblemStatusesTest {

    @Test
    void aConnectionThatBrokeUnderTheCallIsUnavailableAServicesStatusPassesAsItIs() {
        // as gRPC's Netty transport reports a service killed while the gateway wrote to it
        StatusRuntimeException brokeMidWrite = Status.UNKNOWN.withDescription("channel closed")
            .withCause(new ClosedChannelException()).asRuntimeException();
        StatusRuntimeException relayed = (StatusRuntimeException) ProblemStatuses.relay(brokeMidWrite);
        assertThat(relayed.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(ApiException.infoOf(relayed).getCode()).isEqualTo("unavailable");

        StatusRuntimeException notFound = ApiException.notFound("table").toStatusException();
        assertThat(ProblemStatuses.relay(notFound)).isSameAs(notFound);
        StatusRuntimeException serviceBug = Status.INTERNAL.withDescription("internal error").asRuntimeException();
        assertThat(ProblemStatuses.relay(serviceBug)).isSameAs(serviceBug);
    }
}
