package io.linkbase.record.sql;

import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.proto.v1.ColumnType;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * API.md "Exact match" on real PostgreSQL: a text converts to a type only when it is exactly the
 * canonical text of the value it becomes (the rule reconciliation, retyping and preview share).
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CanonicalTextIT implements TestPropertyProvider {
    @Inject
    Db db;

    @Override
    public Map<String, String> getProperties() {
        return ServiceWiring.service()
            .database(TestServers.postgres(), "record_canonical_it")
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .property("linkbase.consumers.enabled", "false")
            .property("linkbase.outbox.relay.enabled", "false")
            .properties();
    }

    @ParameterizedTest(name = "{0} ''{1}'' -> {2}")
    @CsvSource(delimiter = '|', nullValues = "NULL", value = {
        "INTEGER   | 1                          | true",
        "INTEGER   | 01                         | false",
        "INTEGER   | ' 1'                       | false",
        "INTEGER   | 1.0                        | false",
        "INTEGER   | -0                         | false",
        "INTEGER   | -42                        | true",
        "INTEGER   | 9223372036854775807        | true",
        "INTEGER   | 9223372036854775808        | false",
        "INTEGER   | 1e3                        | false",
        "NUMBER    | 1.5                        | true",
        "NUMBER    | 1.50                       | false",
        "NUMBER    | .5                         | false",
        "NUMBER    | 0.5                        | true",
        "NUMBER    | 12345678901234567890.123   | true",
        "BOOLEAN   | true                       | true",
        "BOOLEAN   | True                       | false",
        "BOOLEAN   | t                          | false",
        "DATE      | 2024-01-31                 | true",
        "DATE      | 2024-02-30                 | false",
        "DATE      | 2024-1-31                  | false",
        "DATE      | 2024-01-31T00:00:00Z       | false",
        "TIMESTAMP | 2024-01-31T10:00:00Z       | true",
        "TIMESTAMP | 2024-01-31T10:00:00.5Z     | true",
        "TIMESTAMP | 2024-01-31T10:00:00.500Z   | false",
        "TIMESTAMP | 2024-01-31T10:00:00+00:00  | false",
        "TIMESTAMP | 2024-01-31T24:00:00Z       | false",
        "DURATION  | PT3M25S                    | true",
        "DURATION  | PT205S                     | false",
        "DURATION  | 3 minutes 25 seconds       | false",
        "DURATION  | P1DT2H                     | true",
        "DURATION  | PT0S                       | true",
        "UUID      | 0f8fad5b-d9cb-469f-a165-70867728950e | true",
        "UUID      | 0F8FAD5B-D9CB-469F-A165-70867728950E | false",
        "UUID      | {0f8fad5b-d9cb-469f-a165-70867728950e} | false",
        "TEXT      | ' anything '               | true",
    })
    void aTextConvertsOnlyWhenItIsTheCanonicalText(ColumnType type, String text, boolean converts) {
        String sql = "SELECT " + Canonical.parse(type, "?::text") + " IS NOT NULL, "
            + Canonical.text(type, Canonical.parse(type, "?::text"));
        db.read(c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                s.setString(1, text);
                s.setString(2, text);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    assertThat(rs.getBoolean(1)).isEqualTo(converts);
                    if (converts) {
                        assertThat(rs.getString(2)).as("round trip").isEqualTo(text);
                    }
                }
            }
            return null;
        });
    }

    @ParameterizedTest(name = "{0} {1} -> ''{2}''")
    @CsvSource(delimiter = '|', value = {
        "NUMBER    | 1.50::numeric                               | 1.5",
        "NUMBER    | 100::numeric                                | 100",
        "TIMESTAMP | '2024-01-31 10:00:00+01'::timestamptz       | 2024-01-31T09:00:00Z",
        "DURATION  | '205 seconds'::interval                     | PT3M25S",
        "DATE      | '0999-01-02'::date                          | 0999-01-02",
        "BOOLEAN   | false                                       | false",
    })
    void valuesRenderAsTheirJsonForm(ColumnType type, String literal, String canonical) {
        String expr = literal.replace("'", "''");
        db.read(c -> {
            try (ResultSet rs = c.createStatement().executeQuery("SELECT " + Canonical.text(type, "(" + literal + ")"))) {
                rs.next();
                assertThat(rs.getString(1)).as(expr).isEqualTo(canonical);
            }
            return null;
        });
    }
}
