package io.linkbase.record.records;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Checks incoming values against their columns (API.md "Column types", JSON forms) and turns
 * them into text that PostgreSQL casts to the column's type. Bad input names its field.
 */
final class IncomingValues {
    private static final Pattern NUMBER = Pattern.compile("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]{1,4})?");
    private static final Pattern DATE = Pattern.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}");
    private static final Pattern DURATION = Pattern.compile(
        "-?P(?=[0-9T])([0-9]+Y)?([0-9]+M)?([0-9]+W)?([0-9]+D)?(T(?=[0-9])([0-9]+H)?([0-9]+M)?([0-9]+(\\.[0-9]+)?S)?)?");
    private static final Pattern UUID = Pattern.compile(
        "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private IncomingValues() {
    }

    /**
     * The columns to write, by column, as text for a cast to the column's SQL type (null = SQL
     * NULL). The primary key is generated and cannot be written.
     */
    static Map<Catalog.Column, String> check(Catalog.Table table, Map<String, Value> values) {
        Map<Catalog.Column, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Value> entry : values.entrySet()) {
            Catalog.Column column = table.column(entry.getKey())
                .orElseThrow(() -> ApiException.invalid("values." + entry.getKey(), "no such column"));
            if (column.primaryKey()) {
                throw ApiException.invalid("values." + entry.getKey(), "the primary key is generated");
            }
            out.put(column, text(entry.getKey(), column.type(), entry.getValue()));
        }
        return out;
    }

    /** A value's text for its column; a refusal names the field {@code values.<columnId>} (built only then). */
    static String text(String columnId, ColumnType type, Value v) {
        if (v.getKindCase() == Value.KindCase.KIND_NOT_SET || v.getKindCase() == Value.KindCase.NULL_VALUE) {
            return null;
        }
        try {
            return switch (type) {
                case TEXT -> {
                    require(columnId, v.getKindCase() == Value.KindCase.TEXT, "must be text");
                    require(columnId, v.getText().indexOf('\0') < 0, "must not contain NUL characters");
                    yield v.getText();
                }
                case INTEGER -> {
                    require(columnId, v.getKindCase() == Value.KindCase.INTEGER, "must be an integer");
                    yield Long.toString(v.getInteger());
                }
                case NUMBER -> {
                    if (v.getKindCase() == Value.KindCase.INTEGER) {
                        yield Long.toString(v.getInteger());
                    }
                    require(columnId, v.getKindCase() == Value.KindCase.NUMBER && NUMBER.matcher(v.getNumber()).matches(),
                        "must be a number in plain decimal");
                    yield new BigDecimal(v.getNumber()).toPlainString();
                }
                case BOOLEAN -> {
                    require(columnId, v.getKindCase() == Value.KindCase.BOOLEAN, "must be true or false");
                    yield Boolean.toString(v.getBoolean());
                }
                case DATE -> {
                    require(columnId, v.getKindCase() == Value.KindCase.DATE && DATE.matcher(v.getDate()).matches(),
                        "must be a date like 2024-01-31");
                    yield LocalDate.parse(v.getDate(), DateTimeFormatter.ISO_LOCAL_DATE).toString();
                }
                case TIMESTAMP -> {
                    require(columnId, v.getKindCase() == Value.KindCase.TIMESTAMP, "must be an RFC 3339 timestamp with offset");
                    OffsetDateTime t = OffsetDateTime.parse(v.getTimestamp(), DateTimeFormatter.ISO_OFFSET_DATE_TIME);
                    require(columnId, t.getYear() >= 1 && t.getYear() <= 9999, "year must be 1-9999");
                    yield t.toString();
                }
                case DURATION -> {
                    require(columnId, v.getKindCase() == Value.KindCase.DURATION && DURATION.matcher(v.getDuration()).matches(),
                        "must be an ISO-8601 duration like PT3M25S");
                    yield v.getDuration();
                }
                case UUID -> {
                    require(columnId, v.getKindCase() == Value.KindCase.UUID && UUID.matcher(v.getUuid()).matches(),
                        "must be a UUID");
                    yield v.getUuid().toLowerCase(Locale.ROOT);
                }
                default -> throw ApiException.invalid("values." + columnId, "unsupported column type " + type);
            };
        } catch (DateTimeParseException | NumberFormatException e) {
            throw ApiException.invalid("values." + columnId, "not a valid " + type.name().toLowerCase(Locale.ROOT));
        }
    }

    private static void require(String columnId, boolean ok, String message) {
        if (!ok) {
            throw ApiException.invalid("values." + columnId, message);
        }
    }
}
