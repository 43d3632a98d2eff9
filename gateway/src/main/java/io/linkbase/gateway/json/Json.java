package io.linkbase.gateway.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkedValue;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.Value;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The JSON forms of API.md, built explicitly from the protobuf messages (never derived from a
 * Java class), and strict reading of request bodies: a field of the wrong JSON type or an
 * unknown field is a 400 {@code validation_failed} that names it.
 */
public final class Json {
    /**
     * Reading is bounded (docs/limits.md): number literals of at most 100 characters (so a
     * number is checked before anything expands it), nesting, names and strings no deeper or
     * longer than a request body can need.
     */
    public static final ObjectMapper MAPPER = new ObjectMapper(JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNumberLength(Limits.MAX_NUMBER_LENGTH)
            .maxNestingDepth(Limits.MAX_NESTING_DEPTH)
            .maxNameLength(Limits.MAX_NAME_LENGTH)
            .maxStringLength(Limits.MAX_BATCH_BODY_BYTES)
            .maxDocumentLength(Limits.MAX_BATCH_BODY_BYTES)
            .build())
        .build())
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private Json() {
    }

    /** A response body as text (the mapper's serializer: cheaper than {@code JsonNode.toString()}). */
    public static String write(JsonNode body) {
        try {
            return MAPPER.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---------------------------------------------------------------- reading

    /** The body (at most {@link Limits#MAX_BODY_BYTES}) as a JSON object with only {@code allowed} fields; an empty body is {}. */
    public static ObjectNode object(String body, Set<String> allowed) {
        return object(body, allowed, Limits.MAX_BODY_BYTES);
    }

    /** Like {@link #object(String, Set)} for a body of at most {@code maxBytes}; larger: 413. */
    public static ObjectNode object(String body, Set<String> allowed, int maxBytes) {
        if (body == null || body.isBlank()) {
            return MAPPER.createObjectNode();
        }
        Limits.body(body, maxBytes);
        return parsedObject(() -> MAPPER.readTree(body), allowed);
    }

    /**
     * Like {@link #object(String, Set, int)} for a body as the bytes it came in: a batch of
     * 10,000 records is parsed from its UTF-8 bytes, without first being decoded into a String
     * (both a copy and the slower character parser; docs/decisions.md "Import speed").
     */
    public static ObjectNode object(byte[] body, Set<String> allowed, int maxBytes) {
        if (body == null || isBlank(body)) {
            return MAPPER.createObjectNode();
        }
        if (body.length > maxBytes) {
            throw Limits.tooLarge(maxBytes, body.length);
        }
        return parsedObject(() -> MAPPER.readTree(body), allowed);
    }

    private interface Parse {
        JsonNode tree() throws java.io.IOException;
    }

    private static ObjectNode parsedObject(Parse parse, Set<String> allowed) {
        JsonNode node;
        try {
            node = parse.tree();
        } catch (StreamConstraintsException e) {
            throw Problem.limit("body", e.getOriginalMessage());
        } catch (JsonProcessingException e) {
            throw Problem.invalid("body", "malformed JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // reading bytes in memory: cannot happen
        }
        if (!(node instanceof ObjectNode object)) {
            throw Problem.invalid("body", "must be a JSON object");
        }
        onlyFields(object, allowed, "");
        return object;
    }

    private static boolean isBlank(byte[] body) {
        for (byte b : body) {
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    public static void onlyFields(ObjectNode object, Set<String> allowed, String prefix) {
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            String name = it.next();
            if (!allowed.contains(name)) {
                throw Problem.invalid(prefix + name, "unknown field");
            }
        }
    }

    /** A string field, or null when absent; wrong JSON type is a 400. */
    public static String text(ObjectNode o, String field, String prefix) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isTextual()) {
            throw Problem.invalid(prefix + field, "must be a string");
        }
        return n.textValue();
    }

    public static String requiredText(ObjectNode o, String field, String prefix) {
        String s = text(o, field, prefix);
        if (s == null) {
            throw Problem.invalid(prefix + field, "is required");
        }
        return s;
    }

    public static Boolean bool(ObjectNode o, String field, String prefix) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            return null;
        }
        if (!n.isBoolean()) {
            throw Problem.invalid(prefix + field, "must be true or false");
        }
        return n.booleanValue();
    }

    public static ObjectNode object(ObjectNode o, String field, String prefix, boolean required) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw Problem.invalid(prefix + field, "is required");
            }
            return null;
        }
        if (!(n instanceof ObjectNode obj)) {
            throw Problem.invalid(prefix + field, "must be an object");
        }
        return obj;
    }

    public static ArrayNode array(ObjectNode o, String field, String prefix, boolean required) {
        JsonNode n = o.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                throw Problem.invalid(prefix + field, "is required");
            }
            return null;
        }
        if (!(n instanceof ArrayNode arr)) {
            throw Problem.invalid(prefix + field, "must be an array");
        }
        return arr;
    }

    public static ColumnType columnType(String raw, String field) {
        if (raw == null) {
            return null;
        }
        return switch (raw) {
            case "text" -> ColumnType.TEXT;
            case "integer" -> ColumnType.INTEGER;
            case "number" -> ColumnType.NUMBER;
            case "boolean" -> ColumnType.BOOLEAN;
            case "date" -> ColumnType.DATE;
            case "timestamp" -> ColumnType.TIMESTAMP;
            case "duration" -> ColumnType.DURATION;
            case "uuid" -> ColumnType.UUID;
            default -> throw Problem.invalid(field,
                "unknown type; one of text, integer, number, boolean, date, timestamp, duration, uuid");
        };
    }

    public static OnDelete onDelete(String raw, String field) {
        if (raw == null) {
            return OnDelete.SET_NULL;
        }
        return switch (raw) {
            case "SET_NULL" -> OnDelete.SET_NULL;
            case "RESTRICT" -> OnDelete.RESTRICT;
            case "CASCADE" -> OnDelete.CASCADE;
            default -> throw Problem.invalid(field, "one of SET_NULL, RESTRICT, CASCADE");
        };
    }

    // ---------------------------------------------------------------- writing

    public static String typeName(ColumnType type) {
        return type.name().toLowerCase(Locale.ROOT);
    }

    public static ObjectNode table(Table t) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", t.getId());
        o.put("name", t.getName());
        o.put("version", t.getVersion());
        o.put("primaryKeyColumnId", t.getPrimaryKeyColumnId());
        o.put("displayColumnId", t.getDisplayColumnId());
        ArrayNode columns = o.putArray("columns");
        t.getColumnsList().forEach(c -> columns.add(column(c)));
        return o;
    }

    public static ObjectNode column(Column c) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", c.getId());
        o.put("name", c.getName());
        o.put("type", typeName(c.getType()));
        o.put("primaryKey", c.getPrimaryKey());
        o.put("unique", c.getUnique());
        o.set("link", c.hasLink() ? link(c.getLink()) : NullNode.getInstance());
        return o;
    }

    public static ObjectNode link(Link l) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("columnId", l.getColumnId());
        o.put("targetTableId", l.getTargetTableId());
        o.put("targetColumnId", l.getTargetColumnId());
        o.put("onDelete", l.getOnDelete().name());
        o.put("state", l.getState().name());
        o.put("keptCount", l.getKeptCount());
        o.put("clearedCount", l.getClearedCount());
        if (l.hasProgress()) {
            o.putObject("progress").put("phase", l.getProgress().getPhase().name())
                .put("done", l.getProgress().getDone()).put("total", l.getProgress().getTotal());
        }
        return o;
    }

    public static ObjectNode record(Record r) {
        ObjectNode o = MAPPER.createObjectNode();
        o.put("id", r.getId());
        o.put("version", r.getVersion());
        ObjectNode values = o.putObject("values");
        r.getValuesMap().entrySet().stream().sorted(Map.Entry.comparingByKey())
            .forEach(e -> values.set(e.getKey(), Values.toJson(e.getValue())));
        if (r.getLinksCount() > 0) {
            ObjectNode links = o.putObject("links");
            for (Map.Entry<String, LinkedValue> e : r.getLinksMap().entrySet()) {
                links.putObject(e.getKey()).put("recordId", e.getValue().getRecordId())
                    .put("summary", e.getValue().getSummary());
            }
        }
        return o;
    }

    public static JsonNode value(Value v) {
        return Values.toJson(v);
    }
}
