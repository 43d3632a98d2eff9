package io.linkbase.gateway.api;

import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.BodyReader;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The typed bodies are read strictly, with API.md's field errors (the field's full path and what is wrong). */
class BodiesTest {
    @Test
    void aBodyBecomesItsRecordWithNestedLists() {
        Bodies.CreateTable t = BodyReader.read("{\"name\":\"Tracks\",\"columns\":[{\"name\":\"Title\",\"type\":\"text\","
            + "\"unique\":true},{\"name\":\"Year\"}]}", Bodies.CreateTable.class);
        assertThat(t.name()).isEqualTo("Tracks");
        assertThat(t.columns()).containsExactly(new Bodies.NewColumn("Title", "text", true),
            new Bodies.NewColumn("Year", null, null));
        assertThat(BodyReader.read("", Bodies.PatchTable.class)).isEqualTo(new Bodies.PatchTable(null, null));
        assertThat(BodyReader.read("{\"values\":{\"a\":1}}", Bodies.RecordChange.class).values().get("a").intValue())
            .isEqualTo(1);
        assertThat(BodyReader.read("{\"text\":\"x\",\"recordId\":null}", Bodies.SuggestedRecord.class).recordId()).isNull();
    }

    @Test
    void whatIsWrongIsNamedByItsPath() {
        problem("{\"name\":\"X\",\"colour\":\"red\"}", Bodies.CreateTable.class, "colour", "unknown field");
        problem("{\"name\":\"X\",\"columns\":[{\"name\":\"a\"},{\"colour\":1}]}", Bodies.CreateTable.class,
            "columns[1].colour", "unknown field");
        problem("{\"name\":\"X\",\"columns\":[7]}", Bodies.CreateTable.class, "columns[0]", "must be an object");
        problem("{\"name\":\"X\",\"columns\":{}}", Bodies.CreateTable.class, "columns", "must be an array");
        problem("{\"columns\":[]}", Bodies.CreateTable.class, "name", "is required");
        problem("{\"name\":null}", Bodies.CreateTable.class, "name", "is required");
        problem("{\"name\":7}", Bodies.CreateTable.class, "name", "must be a string");
        problem("{\"name\":\"X\",\"columns\":[{\"unique\":\"yes\"}]}", Bodies.CreateTable.class,
            "columns[0].unique", "must be true or false");
        problem("{}", Bodies.RecordChange.class, "values", "is required");
        problem("{\"values\":[]}", Bodies.NewRecord.class, "values", "must be an object");
        problem("[]", Bodies.NewRecord.class, "body", "must be a JSON object");
        problem("{\"values\":", Bodies.NewRecord.class, "body", null);
    }

    private static void problem(String body, Class<?> type, String field, String message) {
        assertThatThrownBy(() -> BodyReader.read(body, type)).isInstanceOfSatisfying(Problem.class, p -> {
            assertThat(p.status().getCode()).isEqualTo(400);
            assertThat(p.code()).isEqualTo("validation_failed");
            assertThat(p.errors()).hasSize(1);
            assertThat(p.errors().get(0).field()).isEqualTo(field);
            if (message != null) {
                assertThat(p.errors().get(0).message()).isEqualTo(message);
            }
        });
    }
}
