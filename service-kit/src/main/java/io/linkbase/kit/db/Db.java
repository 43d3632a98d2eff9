package io.linkbase.kit.db;

import io.micronaut.context.annotation.Requires;
import io.micronaut.transaction.TransactionDefinition;
import io.micronaut.transaction.TransactionOperations;
import jakarta.inject.Singleton;

import javax.sql.DataSource;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Plain JDBC inside Micronaut-managed transactions. Services write set-based SQL by hand;
 * this is the one place that opens, commits and rolls back.
 */
@Singleton
@Requires(beans = DataSource.class)
public class Db {

    @FunctionalInterface
    public interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    private final TransactionOperations<Connection> tx;

    public Db(TransactionOperations<Connection> tx) {
        this.tx = tx;
    }

    /** Runs {@code work} in a read-write transaction (joining the current one if any). */
    public <T> T inTransaction(SqlWork<T> work) {
        return tx.executeWrite(status -> call(work, status.getConnection()));
    }

    /**
     * Runs {@code work} in a transaction of its own that commits when it returns, even inside
     * another one (which is suspended meanwhile): for work done in steps, each step durable.
     */
    public <T> T inNewTransaction(SqlWork<T> work) {
        return tx.execute(TransactionDefinition.of(TransactionDefinition.Propagation.REQUIRES_NEW),
            status -> call(work, status.getConnection()));
    }

    /** Runs {@code work} in a read-only transaction. */
    public <T> T read(SqlWork<T> work) {
        return tx.executeRead(status -> call(work, status.getConnection()));
    }

    private static <T> T call(SqlWork<T> work, Connection connection) {
        try {
            return work.run(connection);
        } catch (SQLException e) {
            throw new DataAccessFailure(e);
        }
    }

    /** An unchecked wrapper so SQL failures roll the transaction back. */
    public static final class DataAccessFailure extends RuntimeException {
        public DataAccessFailure(SQLException cause) {
            super(cause.getMessage(), cause);
        }

        public SQLException sqlException() {
            return (SQLException) getCause();
        }

        public String sqlState() {
            return sqlException().getSQLState();
        }
    }
}
