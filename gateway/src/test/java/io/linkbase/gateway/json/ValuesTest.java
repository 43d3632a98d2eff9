package io.linkbase.gateway.json;

import com.fasterxml.jackson.databind.JsonNode;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Value;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The JSON forms of API.md "Column types", both ways. */
class ValuesTest {
    @Test
    void eachTypeReadsItsJsonFormAndWritesItBack() throws Exception {
        roundTrip(ColumnType.TEXT, "\"01\"");
        roundTrip(ColumnType.INTEGER, "42");
        roundTrip(ColumnType.NUMBER, "3.25");
        roundTrip(ColumnType.BOOLEAN, "true");
        roundTrip(ColumnType.DATE, "\"2024-01-31\"");
        roundTrip(ColumnType.TIMESTAMP, "\"2024-01-31T10:15:30+01:00\"");
        roundTrip(ColumnType.DURATION, "\"PT3M25S\"");
        roundTrip(ColumnType.UUID, "\"0b6b4d3e-8f0a-4a8e-9a55-3b2f0c2a1d10\"");
        assertThat(Values.fromJson(json("null"), ColumnType.INTEGER, "v").getKindCase()).isEqualTo(Value.KindCase.NULL_VALUE);
        assertThat(Values.fromJson(json("\"0B6B4D3E-8F0A-4A8E-9A55-3B2F0C2A1D10\""), ColumnType.UUID, "v").getUuid())
            .isEqualTo("0b6b4d3e-8f0a-4a8e-9a55-3b2f0c2a1d10");
    }

    @Test
    void aValueOfTheWrongFormIsAValidationErrorNamingTheField() {
        refused(ColumnType.INTEGER, "\"1\"");
        refused(ColumnType.INTEGER, "1.5");
        refused(ColumnType.TEXT, "1");
        refused(ColumnType.BOOLEAN, "\"true\"");
        refused(ColumnType.DATE, "\"31/01/2024\"");
        refused(ColumnType.DATE, "\"2024-02-30\"");
        refused(ColumnType.TIMESTAMP, "\"2024-01-31T10:15:30\"");
        refused(ColumnType.DURATION, "\"3 minutes\"");
        refused(ColumnType.UUID, "\"nope\"");
    }

    private static void roundTrip(ColumnType type, String json) throws Exception {
        Value v = Values.fromJson(json(json), type, "v");
        assertThat(Values.toJson(v).toString()).isEqualTo(json);
    }

    private static void refused(ColumnType type, String json) {
        assertThatThrownBy(() -> Values.fromJson(json(json), type, "values.c1")).isInstanceOfSatisfying(Problem.class, e -> {
            assertThat(e.code()).isEqualTo("validation_failed");
            assertThat(e.errors()).extracting(Problem.FieldError::field).containsExactly("values.c1");
        });
    }

    private static JsonNode json(String s) {
        try {
            return Json.MAPPER.readTree(s);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
