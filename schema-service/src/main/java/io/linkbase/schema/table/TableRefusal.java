package io.linkbase.schema.table;

/**
 * Why a table command was refused, in the domain's terms: a kind, the error code of API.md and,
 * for a bad field, its name. The service's edge maps the kinds to gRPC (and so HTTP) statuses in
 * one place ({@code api.Refusals}); the aggregate knows nothing of transports.
 */
public final class TableRefusal extends RuntimeException {

    public enum Kind {
        /** The table, column or link named does not exist. */
        NOT_FOUND,
        /** A field of the command is not acceptable whatever the state. */
        INVALID,
        /** The command does not fit the table as it is now. */
        CONFLICT,
        /** A name is taken. */
        ALREADY_EXISTS,
        /** A count limit of docs/limits.md. */
        LIMIT_EXCEEDED
    }

    private final Kind kind;
    private final String code;
    private final String field;
    private final String detail;

    private TableRefusal(Kind kind, String code, String field, String detail, String message) {
        super(message, null, false, false);
        this.kind = kind;
        this.code = code;
        this.field = field;
        this.detail = detail;
    }

    public static TableRefusal notFound(String what) {
        return new TableRefusal(Kind.NOT_FOUND, "not_found", null, null, what + " not found");
    }

    public static TableRefusal invalid(String field, String message) {
        return new TableRefusal(Kind.INVALID, "validation_failed", field, message, field + ": " + message);
    }

    /** An invalid command whose code is not {@code validation_failed} and that names no field. */
    public static TableRefusal invalidAs(String code, String message) {
        return new TableRefusal(Kind.INVALID, code, null, null, message);
    }

    public static TableRefusal conflict(String code, String message) {
        return new TableRefusal(Kind.CONFLICT, code, null, null, message);
    }

    public static TableRefusal nameTaken(String message) {
        return new TableRefusal(Kind.ALREADY_EXISTS, "conflict", null, null, message);
    }

    public static TableRefusal limitExceeded(String field, String message) {
        return new TableRefusal(Kind.LIMIT_EXCEEDED, "limit_exceeded", field, message, message);
    }

    public Kind kind() {
        return kind;
    }

    public String code() {
        return code;
    }

    /** The field the refusal is about, or null. */
    public String field() {
        return field;
    }

    /** What is wrong with {@link #field()} (null when there is no field). */
    public String detail() {
        return detail;
    }

    @Override
    public String toString() {
        return "TableRefusal[" + kind + ", " + code + (field == null ? "" : ", " + field) + "]: " + getMessage();
    }
}
