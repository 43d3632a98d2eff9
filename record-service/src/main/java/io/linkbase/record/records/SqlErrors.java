package io.linkbase.record.records;

import io.grpc.Status;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.record.catalog.Catalog;
import jakarta.inject.Singleton;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.sql.SQLException;
import java.util.List;
import java.util.function.Supplier;

/** The database's verdicts on bad input (SQLSTATEs) as API errors, for every call on records. */
@Singleton
class SqlErrors {
    /** What a write of a linked column is told when no target record has its value. */
    static final String NO_SUCH_TARGET = "no record of the linked table has this value";

    private final Db db;

    SqlErrors(Db db) {
        this.db = db;
    }

    /** Runs a call and turns the database's verdicts on bad input into API errors. */
    <T> T mapped(Supplier<T> call, String tenant, String tableId) {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get();
            } catch (Db.DataAccessFailure e) {
                // The column's type changed between reading the catalog and writing (a link or a
                // retype committed while this call waited for its lock): read the catalog again.
                String state = e.sqlState() == null ? "" : e.sqlState();
                if (attempt < 3 && (state.equals("42804") || state.equals("0A000"))) {
                    continue;
                }
                throw translate(e.sqlException(), tenant, tableId);
            }
        }
    }

    private RuntimeException translate(SQLException e, String tenant, String tableId) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String detail = server == null || server.getDetail() == null ? "" : server.getDetail();
        String constraint = server == null || server.getConstraint() == null ? "" : server.getConstraint();
        if (state.equals("23001") || (state.equals("23503") && detail.contains("still referenced"))) {
            return ApiException.conflict("restricted_by_link", "the record is referenced by a link (on delete RESTRICT)");
        }
        if (state.equals("23503")) {
            return ApiException.invalid(field(tenant, tableId, constraint), NO_SUCH_TARGET);
        }
        if (state.equals("23505")) {
            return new ApiException(Status.Code.ALREADY_EXISTS, "conflict", "the value must be unique",
                List.of(io.linkbase.proto.internal.v1.FieldViolation.newBuilder()
                    .setField(field(tenant, tableId, constraint)).setMessage("must be unique").build()));
        }
        if (state.equals("54000")) {
            // program_limit_exceeded: e.g. "row is too big" when a record's many non-empty columns
            // do not fit PostgreSQL's 8 KB row even after TOAST (docs/limits.md)
            return new ApiException(Status.Code.INVALID_ARGUMENT, "limit_exceeded",
                "the record is too large to store: " + (server == null ? e.getMessage() : server.getMessage()), List.of());
        }
        if (state.startsWith("22")) {
            return ApiException.invalid("values", "not a valid value: " + e.getMessage());
        }
        if (state.equals("40P01") || state.equals("40001")) {
            return new ApiException(Status.Code.ABORTED, "conflict", "a concurrent change got in the way; retry", List.of());
        }
        return new Db.DataAccessFailure(e);
    }

    /** values.&lt;column id&gt; for a constraint named fk_/u_&lt;column hex&gt;. */
    private String field(String tenant, String tableId, String constraint) {
        int underscore = constraint.indexOf('_');
        if (underscore < 0) {
            return "values";
        }
        String physical = "c_" + constraint.substring(underscore + 1);
        try {
            return db.read(c -> Catalog.table(c, tenant, tableId)).flatMap(t -> t.columns().values().stream()
                .filter(col -> col.physical().equals(physical)).findFirst())
                .map(col -> "values." + col.id()).orElse("values");
        } catch (RuntimeException ignored) {
            return "values";
        }
    }
}
