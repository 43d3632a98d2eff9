package io.linkbase.gateway.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.google.protobuf.NullValue;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Value;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.LocalDate;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;

/** Cell values between their JSON forms (API.md "Column types") and protobuf. */
public final class Values {
    private static final Pattern DATE = Pattern.compile("\\d{4}-\\d{2}-\\d{2}");
    private static final Value NULL = Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();

    private Values() {
    }

    /** Reads a JSON value for a column of {@code type}; anything else is a 400 naming {@code field}. */
    public static Value fromJson(JsonNode n, ColumnType type, String field) {
        if (n == null || n.isNull()) {
            return NULL;
        }
        try {
            return switch (type) {
                case TEXT -> {
                    require(n.isTextual(), field, "must be a string");
                    Limits.text(n.textValue(), field);
                    yield Value.newBuilder().setText(n.textValue()).build();
                }
                case INTEGER -> {
                    require(n.isIntegralNumber(), field, "must be a whole number");
                    if (!n.canConvertToLong()) {
                        throw Problem.limit(field, "an integer is from " + Long.MIN_VALUE + " to " + Long.MAX_VALUE
                            + " (64 bits); this one has " + n.bigIntegerValue().toString().length() + " characters");
                    }
                    yield Value.newBuilder().setInteger(n.longValue()).build();
                }
                case NUMBER -> {
                    require(n.isNumber(), field, "must be a number");
                    yield Value.newBuilder().setNumber(Limits.number(n.decimalValue(), field)).build();
                }
                case BOOLEAN -> {
                    require(n.isBoolean(), field, "must be true or false");
                    yield Value.newBuilder().setBoolean(n.booleanValue()).build();
                }
                case DATE -> {
                    require(n.isTextual() && DATE.matcher(n.textValue()).matches(), field, "must be a date like 2024-01-31");
                    Limits.date(LocalDate.parse(n.textValue()), field);
                    yield Value.newBuilder().setDate(n.textValue()).build();
                }
                case TIMESTAMP -> {
                    require(n.isTextual(), field, "must be an RFC 3339 timestamp with an offset");
                    Limits.shortString(n.textValue(), field);
                    Limits.timestamp(OffsetDateTime.parse(n.textValue()), field);
                    yield Value.newBuilder().setTimestamp(n.textValue()).build();
                }
                case DURATION -> {
                    require(n.isTextual(), field, "must be an ISO-8601 duration like PT3M25S");
                    Limits.shortString(n.textValue(), field);
                    Limits.duration(Duration.parse(n.textValue()), field);
                    yield Value.newBuilder().setDuration(n.textValue()).build();
                }
                case UUID -> {
                    require(n.isTextual(), field, "must be a UUID");
                    Limits.shortString(n.textValue(), field);
                    yield Value.newBuilder().setUuid(UUID.fromString(n.textValue()).toString().toLowerCase(Locale.ROOT)).build();
                }
                default -> throw Problem.invalid(field, "column has no writable type");
            };
        } catch (DateTimeParseException | IllegalArgumentException e) {
            throw Problem.invalid(field, "not a valid " + Json.typeName(type) + ": " + n);
        }
    }

    /**
     * {@code text} as a value of {@code type} by the exact canonical-text rule (API.md "Exact
     * match": the text must be the value's JSON form, as a string); else a 400 naming {@code field}.
     */
    public static Value fromText(String text, ColumnType type, String field) {
        JsonNode n = switch (type) {
            case INTEGER -> text.matches("-?(0|[1-9][0-9]{0,18})") ? Json.MAPPER.getNodeFactory().numberNode(
                new java.math.BigInteger(text)) : null;
            case NUMBER -> text.matches("-?(0|[1-9][0-9]*)(\\.[0-9]*[1-9])?") ? DecimalNode.valueOf(new BigDecimal(text)) : null;
            case BOOLEAN -> text.equals("true") || text.equals("false") ? BooleanNode.valueOf(Boolean.parseBoolean(text)) : null;
            default -> TextNode.valueOf(text);
        };
        if (n == null) {
            throw Problem.invalid(field, "'" + text + "' is not a " + Json.typeName(type) + " as the linked column needs");
        }
        return fromJson(n, type, field);
    }

    public static JsonNode toJson(Value v) {
        return switch (v.getKindCase()) {
            case TEXT -> TextNode.valueOf(v.getText());
            case INTEGER -> LongNode.valueOf(v.getInteger());
            case NUMBER -> DecimalNode.valueOf(new BigDecimal(v.getNumber()));
            case BOOLEAN -> BooleanNode.valueOf(v.getBoolean());
            case DATE -> TextNode.valueOf(v.getDate());
            case TIMESTAMP -> TextNode.valueOf(v.getTimestamp());
            case DURATION -> TextNode.valueOf(v.getDuration());
            case UUID -> TextNode.valueOf(v.getUuid());
            case NULL_VALUE, KIND_NOT_SET -> NullNode.getInstance();
        };
    }

    private static void require(boolean ok, String field, String message) {
        if (!ok) {
            throw Problem.invalid(field, message);
        }
    }
}
