package io.linkbase.kit.grpc;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.sql.SQLException;

import static org.assertj.core.api.Assertions.assertThat;

class CallsTest {

    @Test
    void aServerThatIsNotAnsweringIsUnavailableSoTheGatewayAnswers503() {
        RuntimeException dbDown = new IllegalStateException("query failed",
            new SQLException("An I/O error occurred while sending to the backend.", "08006"));
        RuntimeException searchDown = new RuntimeException(new ConnectException("Connection refused"));
        assertThat(Calls.unexpected(dbDown).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(Calls.unexpected(searchDown).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    }

    /**
     * gRPC's Netty transport may report a peer killed mid-write as UNKNOWN "channel closed" (its
     * cause a ClosedChannelException, grpc/grpc-java#10474), exactly as {@code Utils.statusFromThrowable}
     * builds it: not the service's answer but a broken connection, so UNAVAILABLE (the gateway's 503).
     * A status the server sent has no cause and passes as it is.
     */
    @Test
    void aConnectionThatBrokeUnderTheCallIsUnavailableWhateverCodeTheTransportGaveIt() {
        java.nio.channels.ClosedChannelException closed = new java.nio.channels.ClosedChannelException();
        closed.initCause(new java.io.IOException("Connection reset by peer"));
        io.grpc.StatusRuntimeException brokeMidWrite = Status.UNKNOWN.withDescription("channel closed")
            .withCause(closed).asRuntimeException();
        assertThat(Calls.brokenConnection(brokeMidWrite)).isTrue();
        assertThat(Calls.unexpected(brokeMidWrite).getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);

        io.grpc.StatusRuntimeException fromTheServer = Status.UNKNOWN.withDescription("channel closed").asRuntimeException();
        assertThat(Calls.brokenConnection(fromTheServer)).isFalse();
        assertThat(Calls.unexpected(fromTheServer).getStatus().getCode()).isEqualTo(Status.Code.UNKNOWN);
        // a local failure that is not the connection (a protocol bug) stays what it is
        io.grpc.StatusRuntimeException http2Bug = Status.INTERNAL.withDescription("http2 exception")
            .withCause(new IllegalStateException("bad frame")).asRuntimeException();
        assertThat(Calls.brokenConnection(http2Bug)).isFalse();
        assertThat(Calls.unexpected(http2Bug).getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    }

    @Test
    void aBugIsInternalAndAStatusPassesAsItIs() {
        assertThat(Calls.unexpected(new NullPointerException("bug")).getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(Calls.unexpected(new SQLException("syntax error", "42601")).getStatus().getCode())
            .isEqualTo(Status.Code.INTERNAL);
        assertThat(Calls.unexpected(Status.CANCELLED.asRuntimeException()).getStatus().getCode())
            .isEqualTo(Status.Code.CANCELLED);
    }
}
