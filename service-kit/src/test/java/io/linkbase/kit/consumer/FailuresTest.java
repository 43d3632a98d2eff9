package io.linkbase.kit.consumer;

import io.linkbase.kit.db.Db;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import static org.assertj.core.api.Assertions.assertThat;

/** Which failures a consumer retries for as long as they last, and which it parks. */
class FailuresTest {
    private static boolean transientState(String state) {
        return Failures.isTransient(new Db.DataAccessFailure(new SQLException("x", state)), null);
    }

    @Test
    void serversDownDeadlocksAndResourcesAreTransient() {
        assertThat(transientState("08006")).isTrue();  // connection failure
        assertThat(transientState("08001")).isTrue();  // cannot connect
        assertThat(transientState("57P01")).isTrue();  // admin shutdown
        assertThat(transientState("57P03")).isTrue();  // cannot connect now (starting up)
        assertThat(transientState("40001")).isTrue();  // serialization failure
        assertThat(transientState("40P01")).isTrue();  // deadlock
        assertThat(transientState("53100")).isTrue();  // disk full
        assertThat(Failures.isTransient(new RuntimeException(
            new SQLTransientConnectionException("HikariPool-1 - Connection is not available")), null)).isTrue();
        assertThat(Failures.isTransient(new TimeoutException("no leader"), null)).isTrue();
        assertThat(Failures.isTransient(new IllegalStateException(new ConnectException("refused")), null)).isTrue();
        // a connection closed under a call (gRPC's transport when the service it called went away)
        assertThat(Failures.isTransient(io.grpc.Status.UNKNOWN.withDescription("channel closed")
            .withCause(new java.nio.channels.ClosedChannelException()).asRuntimeException(), null)).isTrue();
    }

    @Test
    void whatTheDatabaseOrKafkaRefusesEveryTimeIsNot() {
        assertThat(transientState("54011")).isFalse(); // too many columns
        assertThat(transientState("42P07")).isFalse(); // duplicate table
        assertThat(transientState("23505")).isFalse(); // unique violation
        assertThat(transientState(null)).isFalse();
        assertThat(Failures.isTransient(new RecordTooLargeException("1.2 MB"), null)).isFalse();
        assertThat(Failures.isTransient(new IllegalArgumentException("bad"), null)).isFalse();
    }

    @Test
    void anExceptionThatKnowsItsKindDecides() {
        class Status extends RuntimeException implements Failures.Classified {
            final int status;

            Status(int status) {
                this.status = status;
            }

            @Override
            public boolean isTransient() {
                return status >= 500;
            }
        }
        assertThat(Failures.isTransient(new Status(503), null)).isTrue();
        assertThat(Failures.isTransient(new Status(400), null)).isFalse();
        // a handler waiting on another aggregate's event, wrapped by the transaction
        assertThat(Failures.isTransient(new RuntimeException(new NotYetException("target not created yet")), null))
            .isTrue();
    }

    @Test
    void theReasonNamesTheCauseAndItsSqlState() {
        String reason = Failures.reason(new Db.DataAccessFailure(
            new SQLException("ERROR: tables can have at most 1600 columns", "54011")));
        assertThat(reason).isEqualTo("java.sql.SQLException: ERROR: tables can have at most 1600 columns "
            + "(via DataAccessFailure) [SQLState 54011]");
    }
}
