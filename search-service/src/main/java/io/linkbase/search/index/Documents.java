package io.linkbase.search.index;

import io.linkbase.proto.v1.Value;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Turns a record (values by column id) into its document. */
public final class Documents {
    private Documents() {
    }

    public static Doc.Upsert of(String tenant, String table, long recordId, long version, Map<String, Value> values,
                                String displayColumnId, String primaryKeyColumnId) {
        List<String> texts = new ArrayList<>();
        for (Value v : values.values()) {
            if (v.getKindCase() == Value.KindCase.TEXT && !v.getText().isBlank()) {
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
        if (!summary.isEmpty() && (display == null || display.getKindCase() != Value.KindCase.TEXT)) {
            texts.add(summary); // a non-text display value is still what the user sees and types
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
}
