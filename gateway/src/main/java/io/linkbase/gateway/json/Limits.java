package io.linkbase.gateway.json;

import io.linkbase.gateway.errors.Problem;
import io.linkbase.proto.v1.Value;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Map;

/**
 * The size and range limits of docs/limits.md that the gateway checks before any service sees a
 * request, shared by the HTTP and the public gRPC API. A value over a limit is a 400
 * {@code limit_exceeded} that names the field and says the limit and the actual figure.
 */
public final class Limits {
    /** A text value, in UTF-8 bytes. */
    public static final int MAX_TEXT_BYTES = 64 * 1024;
    /**
     * A record's values in total: the size of the values object as compact JSON. Keeps one
     * RecordUpserted event well under Kafka's 1 MiB message size.
     */
    public static final int MAX_RECORD_BYTES = 256 * 1024;
    /** Numbers: at most this many significant digits... */
    public static final int MAX_NUMBER_DIGITS = 30;
    /** ...at most this many before the decimal point (absolute value below 1e21)... */
    public static final int MAX_NUMBER_INTEGER_DIGITS = 21;
    /** ...and at most this many after it. */
    public static final int MAX_NUMBER_FRACTION_DIGITS = 30;
    /** Longest number literal the JSON parser reads (Jackson StreamReadConstraints.maxNumberLength). */
    public static final int MAX_NUMBER_LENGTH = 100;
    /** Dates and timestamps: years 1 to 9999 (PostgreSQL has no year 0). */
    public static final int MIN_YEAR = 1;
    public static final int MAX_YEAR = 9999;
    /** Durations: at most 10,000 years of 365.2425 days either way. */
    public static final Duration MAX_DURATION = Duration.ofDays(3_652_425);
    /** Date, timestamp, duration and uuid values are short: longer strings are not parsed. */
    public static final int MAX_TEMPORAL_LENGTH = 64;
    /** Request bodies: the batch endpoint (10,000 records of about 1.6 KB) and every other one. */
    public static final int MAX_BATCH_BODY_BYTES = 16 * 1024 * 1024;
    public static final int MAX_BODY_BYTES = 1024 * 1024;
    /**
     * Columns per table, the primary key included: schema-service's rule (TableAggregate.MAX_COLUMNS),
     * checked here too so an oversized create never travels further than the gateway.
     */
    public static final int MAX_COLUMNS = 1_000;
    /** Records per batch. */
    public static final int MAX_BATCH = 10_000;
    /** Autocomplete query text, in characters. */
    public static final int MAX_Q = 200;
    /** Suggestions per autocomplete answer (search-service's own bound too), and the default. */
    public static final int MAX_SUGGESTIONS = 50;
    public static final int DEFAULT_SUGGESTIONS = 10;
    /** Records per page of a listing, and the default. */
    public static final int MAX_PAGE = 1000;
    public static final int DEFAULT_PAGE = 100;
    /** Longest wait for a link to become ACTIVE ({@code ?wait}, {@code wait_seconds}). */
    public static final int MAX_WAIT_SECONDS = 30;
    /** JSON nesting depth of a request body (the deepest API body nests 4 levels). */
    public static final int MAX_NESTING_DEPTH = 32;
    /** A JSON field name (column ids are 36 characters). */
    public static final int MAX_NAME_LENGTH = 1_000;

    private Limits() {
    }

    /** A number as plain decimal text, refused before anything expands it (1e999999999 is 11 characters). */
    public static String number(BigDecimal d, String field) {
        if (d.signum() == 0) {
            return d.scale() > 0 && d.scale() <= MAX_NUMBER_FRACTION_DIGITS ? d.toPlainString() : "0";
        }
        BigDecimal s = d.stripTrailingZeros();
        long integerDigits = (long) s.precision() - s.scale();
        if (integerDigits > MAX_NUMBER_INTEGER_DIGITS) {
            throw Problem.limit(field, "must be less than 1e21 in absolute value; it has "
                + integerDigits + " digits before the decimal point");
        }
        if (s.scale() > MAX_NUMBER_FRACTION_DIGITS) {
            throw Problem.limit(field, "must have at most " + MAX_NUMBER_FRACTION_DIGITS
                + " digits after the decimal point; it has " + s.scale());
        }
        if (s.precision() > MAX_NUMBER_DIGITS) {
            throw Problem.limit(field, "must have at most " + MAX_NUMBER_DIGITS
                + " significant digits; it has " + s.precision());
        }
        return d.toPlainString();
    }

    public static void text(String text, String field) {
        if (text.length() * 3L <= MAX_TEXT_BYTES) {
            return; // no string of this many chars can be over the limit
        }
        long bytes = utf8Length(text);
        if (bytes > MAX_TEXT_BYTES) {
            throw Problem.limit(field, "a text value is at most " + MAX_TEXT_BYTES + " bytes (UTF-8); this one is " + bytes);
        }
    }

    public static LocalDate date(LocalDate date, String field) {
        year(date.getYear(), field);
        return date;
    }

    public static OffsetDateTime timestamp(OffsetDateTime t, String field) {
        year(t.getYear(), field);
        return t;
    }

    public static Duration duration(Duration d, String field) {
        if (d.abs().compareTo(MAX_DURATION) > 0) {
            throw Problem.limit(field, "a duration is at most " + MAX_DURATION.toDays() + " days either way; this one is "
                + d.toDays() + " days");
        }
        return d;
    }

    /** A create-table request asking for more columns than a table may have: 409, as schema-service says it. */
    public static void columnsOfNewTable(int requested, String field) {
        if (requested + 1 > MAX_COLUMNS) {
            String message = "a table has at most " + MAX_COLUMNS + " columns, the primary key id included; "
                + "this request asks for " + (requested + 1);
            throw new Problem(io.micronaut.http.HttpStatus.CONFLICT, "limit_exceeded", message,
                java.util.List.of(new Problem.FieldError(field, message)), null);
        }
    }

    /** A batch of more than {@link #MAX_BATCH} records: 413, before any of its values is looked at. */
    public static void batch(int records) {
        if (records > MAX_BATCH) {
            throw new Problem(io.micronaut.http.HttpStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                "at most " + MAX_BATCH + " records per batch; this one has " + records,
                java.util.List.of(new Problem.FieldError("records", "at most " + MAX_BATCH + " records")), null);
        }
    }

    /** An autocomplete query longer than {@link #MAX_Q} characters. */
    public static void query(String q) {
        if (q != null && q.length() > MAX_Q) {
            throw Problem.limit("q", "at most " + MAX_Q + " characters; it has " + q.length());
        }
    }

    /** A date, timestamp, duration or uuid string is parsed only when it is short. */
    public static void shortString(String s, String field) {
        if (s.length() > MAX_TEMPORAL_LENGTH) {
            throw Problem.limit(field, "must be at most " + MAX_TEMPORAL_LENGTH + " characters; it has " + s.length());
        }
    }

    private static void year(int year, String field) {
        if (year < MIN_YEAR || year > MAX_YEAR) {
            throw Problem.limit(field, "the year must be from " + MIN_YEAR + " to " + MAX_YEAR + "; it is " + year);
        }
    }

    /**
     * Every value of a record, then the record in total, as typed values: used by the HTTP API
     * after reading JSON and by the public gRPC API on the values it was sent.
     */
    public static void values(Map<String, Value> values, String prefix) {
        for (Map.Entry<String, Value> e : values.entrySet()) {
            value(e.getValue(), prefix + e.getKey());
        }
        long size = recordSize(values);
        if (size > MAX_RECORD_BYTES) {
            String field = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
            throw Problem.limit(field, "a record's values are at most " + MAX_RECORD_BYTES
                + " bytes in total as JSON; these are " + size);
        }
    }

    static void value(Value v, String field) {
        try {
            switch (v.getKindCase()) {
                case TEXT -> text(v.getText(), field);
                case NUMBER -> {
                    if (v.getNumber().length() > MAX_NUMBER_LENGTH) {
                        throw Problem.limit(field, "a number is at most " + MAX_NUMBER_LENGTH
                            + " characters; this one has " + v.getNumber().length());
                    }
                    number(new BigDecimal(v.getNumber()), field);
                }
                case DATE -> {
                    shortString(v.getDate(), field);
                    date(LocalDate.parse(v.getDate()), field);
                }
                case TIMESTAMP -> {
                    shortString(v.getTimestamp(), field);
                    timestamp(OffsetDateTime.parse(v.getTimestamp()), field);
                }
                case DURATION -> {
                    shortString(v.getDuration(), field);
                    duration(Duration.parse(v.getDuration()), field);
                }
                case UUID -> shortString(v.getUuid(), field);
                default -> {
                }
            }
        } catch (DateTimeParseException | NumberFormatException e) {
            throw Problem.invalid(field, "not a valid " + v.getKindCase().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** The size of {@code {"<columnId>": value, ...}} as compact JSON in UTF-8, counted without writing it. */
    public static long recordSize(Map<String, Value> values) {
        long size = 2;
        boolean first = true;
        for (Map.Entry<String, Value> e : values.entrySet()) {
            if (!first) {
                size++;
            }
            first = false;
            size += quotedLength(e.getKey()) + 1 + valueLength(e.getValue());
        }
        return size;
    }

    private static long valueLength(Value v) {
        return switch (v.getKindCase()) {
            case TEXT -> quotedLength(v.getText());
            case INTEGER -> Long.toString(v.getInteger()).length();
            case NUMBER -> v.getNumber().length();
            case BOOLEAN -> v.getBoolean() ? 4 : 5;
            case DATE -> quotedLength(v.getDate());
            case TIMESTAMP -> quotedLength(v.getTimestamp());
            case DURATION -> quotedLength(v.getDuration());
            case UUID -> quotedLength(v.getUuid());
            case NULL_VALUE, KIND_NOT_SET -> 4;
        };
    }

    /** A string as a JSON string literal as Jackson writes it: quotes, escapes and UTF-8 bytes. */
    static long quotedLength(String s) {
        long n = 2;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                n += 2;
            } else if (c < 0x20) {
                n += (c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r') ? 2 : 6;
            } else if (Character.isSurrogate(c)) {
                n += 6; // Jackson writes each half of a surrogate pair as a \\uXXXX escape
            } else {
                n += utf8(c);
            }
        }
        return n;
    }

    public static long utf8Length(String s) {
        long n = 0;
        for (int i = 0; i < s.length(); i++) {
            n += utf8(s.charAt(i));
        }
        return n;
    }

    /** UTF-8 bytes of one char; a surrogate pair (4 bytes) counts 2 for each half. */
    private static int utf8(char c) {
        if (c < 0x80) {
            return 1;
        }
        if (c < 0x800 || Character.isSurrogate(c)) {
            return 2;
        }
        return 3;
    }

    /** A request body over {@code max} bytes (UTF-8): 413 payload_too_large. */
    public static void body(String body, int max) {
        if (body.length() * 3L <= max) {
            return;
        }
        long bytes = utf8Length(body);
        if (bytes > max) {
            throw tooLarge(max, bytes);
        }
    }

    public static Problem tooLarge(long max, long actual) {
        return new Problem(io.micronaut.http.HttpStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
            "a request body here is at most " + max + " bytes; this one has " + actual,
            java.util.List.of(new Problem.FieldError("body", "at most " + max + " bytes")), null);
    }
}
