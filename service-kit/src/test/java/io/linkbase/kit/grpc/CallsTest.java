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

    @Test
    void aBugIsInternalAndAStatusPassesAsItIs() {
        assertThat(Calls.unexpected(new NullPointerException("bug")).getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(Calls.unexpected(new SQLException("syntax error", "42601")).getStatus().getCode())
            .isEqualTo(Status.Code.INTERNAL);
        assertThat(Calls.unexpected(Status.CANCELLED.asRuntimeException()).getStatus().getCode())
            .isEqualTo(Status.Code.CANCELLED);
    }
}
