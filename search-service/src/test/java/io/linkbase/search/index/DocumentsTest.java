package io.linkbase.search.index;

import io.linkbase.proto.v1.Value;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A document indexes its summary once: {@code text} holds the other columns' text values only. */
class DocumentsTest {
    private static Value text(String s) {
        return Value.newBuilder().setText(s).build();
    }

    @Test
    void aTextSummaryIsNotRepeatedInText() {
        Map<String, Value> values = new LinkedHashMap<>();
        values.put("pk", Value.newBuilder().setInteger(7).build());
        values.put("name", text("Sigur Rós"));
        values.put("genre", text("post-rock"));
        values.put("blank", text("  "));
        Doc.Upsert doc = Documents.of("acme", "t", 7, 1, values, "name", "pk");
        assertThat(doc.summary()).isEqualTo("Sigur Rós");
        assertThat(doc.texts()).containsExactly("post-rock");
    }

    @Test
    void aNonTextSummaryIsNotAddedToTextEither() {
        Map<String, Value> values = new LinkedHashMap<>();
        values.put("code", Value.newBuilder().setInteger(1984).build());
        values.put("title", text("Nineteen"));
        assertThat(Documents.of("acme", "t", 3, 1, values, "code", "pk").texts()).containsExactly("Nineteen");
        // the key as display value, absent from the values: the record id is the summary
        Doc.Upsert byKey = Documents.of("acme", "t", 3, 1, Map.of("title", text("Nineteen")), "pk", "pk");
        assertThat(byKey.summary()).isEqualTo("3");
        assertThat(byKey.texts()).containsExactly("Nineteen");
    }
}
