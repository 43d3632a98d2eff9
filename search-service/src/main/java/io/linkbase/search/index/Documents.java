package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.linkbase.proto.v1.Value;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Turns a record (values by column id) into its document, and the document into its JSON and back. */
public final class Documents {
    private Documents() {
    }

    public static Doc.Upsert of(String tenant, String table, long recordId, long version, Map<String, Value> values,
                                String displayColumnId, String primaryKeyColumnId) {
        // text: the other text columns only. The summary is indexed once, in its own field; step 2
        // of Suggester matches each word in summary or text. Repeating it here cost OpenSearch
        // about 15 % of its CPU per document (docs/decisions.md, "The summary is indexed once").
        List<String> texts = new ArrayList<>();
        for (Map.Entry<String, Value> e : values.entrySet()) {
            Value v = e.getValue();
            if (v.getKindCase() == Value.KindCase.TEXT && !v.getText().isBlank() && !e.getKey().equals(displayColumnId)) {
                texts.add(v.getText());
            }
        }
        Value display = values.get(displayColumnId);
        String summary;
        if (display == null && displayColumnId.equals(primaryKeyColumnId)) {
            summary = Long.toString(recordId);
        } else {
            summary = display == null ? "" : canonicalText(display);
        }
        return new Doc.Upsert(tenant, table, recordId, version, summary, texts, values);
    }

    /** The canonical text of a value (API.md "Column types"); empty for null. */
    public static String canonicalText(Value v) {
        return switch (v.getKindCase()) {
            case TEXT -> v.getText();
            case INTEGER -> Long.toString(v.getInteger());
            case NUMBER -> v.getNumber();
            case BOOLEAN -> Boolean.toString(v.getBoolean());
            case DATE -> v.getDate();
            case TIMESTAMP -> v.getTimestamp();
            case DURATION -> v.getDuration();
            case UUID -> v.getUuid();
            case NULL_VALUE, KIND_NOT_SET -> "";
        };
    }

    static void writeSource(JsonGenerator g, Doc.Upsert u) throws IOException {
        g.writeStartObject();
        g.writeStringField("tenant", u.tenant());
        g.writeStringField("table", u.table());
        g.writeNumberField("record", u.record());
        g.writeStringField("summary", u.summary());
        g.writeNumberField(RecordsIndex.SUMMARY_LENGTH, u.summary().length());
        g.writeArrayFieldStart("text");
        for (String t : u.texts()) {
            g.writeString(t);
        }
        g.writeEndArray();
        g.writeObjectFieldStart("v");
        for (Map.Entry<String, io.linkbase.proto.v1.Value> e : u.values().entrySet()) {
            writeValue(g, e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** A value as {@code {"<kind>": scalar}} (the proto field name of its kind); nulls are left out. */
    private static void writeValue(JsonGenerator g, String column, io.linkbase.proto.v1.Value v) throws IOException {
        switch (v.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> {
                return;
            }
            default -> {
            }
        }
        g.writeObjectFieldStart(column);
        switch (v.getKindCase()) {
            case TEXT -> g.writeStringField("text", v.getText());
            case INTEGER -> g.writeNumberField("integer", v.getInteger());
            case NUMBER -> g.writeStringField("number", v.getNumber());
            case BOOLEAN -> g.writeBooleanField("boolean", v.getBoolean());
            case DATE -> g.writeStringField("date", v.getDate());
            case TIMESTAMP -> g.writeStringField("timestamp", v.getTimestamp());
            case DURATION -> g.writeStringField("duration", v.getDuration());
            case UUID -> g.writeStringField("uuid", v.getUuid());
            default -> {
            }
        }
        g.writeEndObject();
    }

    /** Reads back a value written by {@link #writeValue}; null when absent. */
    public static io.linkbase.proto.v1.Value readValue(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull() || !node.fields().hasNext()) {
            return null;
        }
        Map.Entry<String, JsonNode> e = node.fields().next();
        io.linkbase.proto.v1.Value.Builder b = io.linkbase.proto.v1.Value.newBuilder();
        JsonNode s = e.getValue();
        switch (e.getKey()) {
            case "text" -> b.setText(s.asText());
            case "integer" -> b.setInteger(s.asLong());
            case "number" -> b.setNumber(s.asText());
            case "boolean" -> b.setBoolean(s.asBoolean());
            case "date" -> b.setDate(s.asText());
            case "timestamp" -> b.setTimestamp(s.asText());
            case "duration" -> b.setDuration(s.asText());
            case "uuid" -> b.setUuid(s.asText());
            default -> {
                return null;
            }
        }
        return b.build();
    }
}
