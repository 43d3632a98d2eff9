package io.linkbase.kit.consumer;

import org.apache.kafka.common.errors.RetriableException;

import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.nio.channels.ClosedChannelException;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Tells a failure that will pass by itself (a server down or restarting, a lock lost, no
 * resources right now) from one that will repeat every time on the same event (a DDL that
 * PostgreSQL refuses, a document OpenSearch cannot map). Consumers retry the first kind for
 * as long as it lasts and park the second kind after bounded attempts.
 */
public final class Failures {
    /** SQLStates that are transient: serialization failure, deadlock, lock not available. */
    private static final Set<String> TRANSIENT_STATES = Set.of("40001", "40P01", "55P03");

    private Failures() {
    }

    /** An exception that knows whether it is transient (e.g. a search engine's 503 against its 400). */
    public interface Classified {
        boolean isTransient();
    }

    /** Whether {@code failure} (or anything in its cause chain) says "try again later". */
    public static boolean isTransient(Throwable failure, Predicate<Throwable> extra) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (extra != null && extra.test(t)) {
                return true;
            }
            if (t instanceof Classified c) {
                return c.isTransient();
            }
            if (t instanceof SQLException sql && transientState(sql.getSQLState())) {
                return true;
            }
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true; // includes Hikari's pool timeout (SQLTransientConnectionException)
            }
            if (t instanceof RetriableException) {
                return true; // Kafka's own verdict (timeouts, not leader, coordinator moving)
            }
            if (t instanceof ConnectException || t instanceof SocketTimeoutException
                || t instanceof NoRouteToHostException || t instanceof UnknownHostException
                || t instanceof SocketException || t instanceof ClosedChannelException) {
                // ClosedChannelException: a connection closed under a call (gRPC's Netty transport
                // reports a peer that went away mid-write as UNKNOWN "channel closed" with it as cause)
                return true;
            }
            String name = t.getClass().getName();
            if (name.endsWith("CannotCreateTransactionException") || name.endsWith("ConnectionException")) {
                return true; // no connection could be had for the transaction at all
            }
        }
        return false;
    }

    static boolean transientState(String state) {
        if (state == null || state.length() < 2) {
            return false;
        }
        return state.startsWith("08")        // connection exception
            || state.startsWith("53")        // insufficient resources (disk full, out of memory, too many connections)
            || state.startsWith("57P0")      // admin/crash shutdown, cannot connect now
            || TRANSIENT_STATES.contains(state);
    }

    /** A one-line reason for an operator: exception class, message, root cause and SQLState (if any). */
    public static String reason(Throwable failure) {
        Throwable root = failure;
        String sqlState = null;
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            root = t;
            if (sqlState == null && t instanceof SQLException sql && sql.getSQLState() != null) {
                sqlState = sql.getSQLState();
            }
        }
        StringBuilder reason = new StringBuilder();
        if (root == failure) {
            reason.append(root.getClass().getName()).append(": ").append(root.getMessage());
        } else if (failure.getMessage() != null && root.getMessage() != null
            && failure.getMessage().contains(root.getMessage())) {
            // a wrapper repeating its cause's message (e.g. Db.DataAccessFailure): name the cause
            reason.append(root.getClass().getName()).append(": ").append(root.getMessage())
                .append(" (via ").append(failure.getClass().getSimpleName()).append(')');
        } else {
            reason.append(failure.getClass().getName()).append(": ").append(failure.getMessage())
                .append("; caused by ").append(root.getClass().getName()).append(": ").append(root.getMessage());
        }
        if (sqlState != null) {
            reason.append(" [SQLState ").append(sqlState).append(']');
        }
        return reason.length() > 2_000 ? reason.substring(0, 2_000) + "…" : reason.toString();
    }
}
