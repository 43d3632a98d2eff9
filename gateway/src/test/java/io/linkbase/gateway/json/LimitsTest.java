package io.linkbase.gateway.json;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Value;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The value and body limits of docs/limits.md, as the HTTP and the public gRPC API check them. */
class LimitsTest {
    @Test
    void aTextValueIsAtMost64KiBOfUtf8() {
        assertThat(Values.fromJson(Json.MAPPER.valueToTree("x".repeat(65_536)), ColumnType.TEXT, "v").getText()).hasSize(65_536);
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("x".repeat(65_537)), ColumnType.TEXT, "values.c"),
            "values.c", "at most 65536 bytes", "this one is 65537");
        // 21,846 three-byte characters are 65,538 bytes
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("€".repeat(21_846)), ColumnType.TEXT, "values.c"),
            "values.c", "this one is 65538");
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("x".repeat(1_200_000)), ColumnType.TEXT, "values.c"),
            "values.c", "this one is 1200000");
        // the same check on a protobuf value (public gRPC API)
        assertLimit(() -> Limits.values(Map.of("c", Value.newBuilder().setText("é".repeat(40_000)).build()), "values."),
            "values.c", "this one is 80000");
    }

    @Test
    void aRecordsValuesAreAtMost256KiBInTotal() {
        Map<String, Value> values = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            values.put("c" + i, Value.newBuilder().setText("x".repeat(60_000)).build());
        }
        Limits.values(values, "values."); // 240,000 bytes and some
        values.put("c4", Value.newBuilder().setText("x".repeat(30_000)).build());
        assertLimit(() -> Limits.values(values, "records[3].values."), "records[3].values", "at most 262144 bytes");
    }

    @Test
    void theRecordSizeIsTheValuesObjectAsCompactJson() throws Exception {
        Map<String, Value> values = new LinkedHashMap<>();
        values.put("a", Value.newBuilder().setText("q\"\\\n\u0001é€😀").build());
        values.put("b", Value.newBuilder().setInteger(-42).build());
        values.put("c", Value.newBuilder().setNumber("3.25").build());
        values.put("d", Value.newBuilder().setBoolean(false).build());
        values.put("e", Value.newBuilder().setNullValue(com.google.protobuf.NullValue.NULL_VALUE).build());
        values.put("f", Value.newBuilder().setDate("2024-01-31").build());
        ObjectNode json = Json.MAPPER.createObjectNode();
        values.forEach((k, v) -> json.set(k, Values.toJson(v)));
        assertThat(Limits.recordSize(values)).isEqualTo(Json.MAPPER.writeValueAsBytes(json).length);
    }

    @Test
    @Timeout(5)
    void hugeNumbersAreRefusedBeforeAnythingExpandsThem() throws Exception {
        for (String n : new String[] {"1e999999999", "-1e999999999", "1e-999999999", "1e21", "123456789012345678901234.5"}) {
            assertThatThrownBy(() -> Values.fromJson(tree(n), ColumnType.NUMBER, "values.n"))
                .as(n).isInstanceOfSatisfying(Problem.class, p -> {
                    assertThat(p.code()).isEqualTo("limit_exceeded");
                    assertThat(p.status().getCode()).isEqualTo(400);
                    assertThat(p.errors().get(0).field()).isEqualTo("values.n");
                });
        }
        assertLimit(() -> Values.fromJson(tree("1.0000000000000000000000000000001"), ColumnType.NUMBER, "n"),
            "n", "at most 30 digits after the decimal point");
        assertLimit(() -> Values.fromJson(tree("1.234567890123456789012345678912"), ColumnType.NUMBER, "n"),
            "n", "at most 30 significant digits");
        // inside the limits: kept as written, in plain decimal
        assertThat(num("999999999999999999999")).isEqualTo("999999999999999999999");
        assertThat(num("-1.5e20")).isEqualTo("-150000000000000000000");
        assertThat(num("1.50")).isEqualTo("1.5"); // as before: the JSON reader normalises decimals
        assertThat(num("1e-30")).isEqualTo("0.000000000000000000000000000001");
        assertThat(num("0e999999999")).isEqualTo("0");
        assertThat(num("0.000")).isEqualTo("0");
        // the same check on a protobuf value (public gRPC API)
        assertLimit(() -> Limits.values(Map.of("n", Value.newBuilder().setNumber("1e999999999").build()), "values."),
            "values.n", "less than 1e21");
    }

    @Test
    void aNumberLiteralLongerThan100CharactersIsRefusedByTheParser() {
        String body = "{\"values\":{\"n\":" + "9".repeat(101) + "}}";
        assertLimit(() -> Json.object(body, Set.of("values")), "body", "100");
        String deep = "{\"values\":" + "[".repeat(40) + "]".repeat(40) + "}";
        assertLimit(() -> Json.object(deep, Set.of("values")), "body", "32");
    }

    @Test
    void integersAreSigned64Bit() throws Exception {
        assertThat(Values.fromJson(tree("9223372036854775807"), ColumnType.INTEGER, "i").getInteger())
            .isEqualTo(Long.MAX_VALUE);
        assertLimit(() -> Values.fromJson(tree("9223372036854775808"), ColumnType.INTEGER, "i"),
            "i", "64 bits");
    }

    @Test
    void datesTimestampsAndDurationsStayInRange() throws Exception {
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("0000-01-01"), ColumnType.DATE, "d"), "d", "year must be from 1 to 9999");
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("+10000-01-01T00:00:00Z"), ColumnType.TIMESTAMP, "t"),
            "t", "it is 10000");
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("PT99999999999H"), ColumnType.DURATION, "p"), "p", "days either way");
        assertLimit(() -> Values.fromJson(Json.MAPPER.valueToTree("P" + "1".repeat(100) + "D"), ColumnType.DURATION, "p"),
            "p", "at most 64 characters");
        assertThat(Values.fromJson(Json.MAPPER.valueToTree("P3652425D"), ColumnType.DURATION, "p").getDuration()).isEqualTo("P3652425D");
        assertThat(Values.fromJson(Json.MAPPER.valueToTree("9999-12-31"), ColumnType.DATE, "d").getDate()).isEqualTo("9999-12-31");
    }

    @Test
    void aBodyIsMeasuredInUtf8Bytes() {
        Limits.body("x".repeat(Limits.MAX_BODY_BYTES), Limits.MAX_BODY_BYTES);
        assertThatThrownBy(() -> Limits.body("é".repeat(Limits.MAX_BODY_BYTES / 2 + 1), Limits.MAX_BODY_BYTES))
            .isInstanceOfSatisfying(Problem.class, p -> {
                assertThat(p.status().getCode()).isEqualTo(413);
                assertThat(p.code()).isEqualTo("payload_too_large");
                assertThat(p.getMessage()).contains("at most 1048576 bytes", "has 1048578");
            });
    }

    private static JsonNode tree(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static String num(String json) throws Exception {
        JsonNode n = tree(json);
        return Values.fromJson(n, ColumnType.NUMBER, "n").getNumber();
    }

    private static void assertLimit(Runnable check, String field, String... detail) {
        assertThatThrownBy(check::run).isInstanceOfSatisfying(Problem.class, p -> {
            assertThat(p.code()).isEqualTo("limit_exceeded");
            assertThat(p.status().getCode()).isEqualTo(400);
            assertThat(p.errors().get(0).field()).isEqualTo(field);
            assertThat(p.getMessage()).contains(detail);
        });
    }
}
