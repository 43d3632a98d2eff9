package io.linkbase.record.catalog;

import com.google.protobuf.NullValue;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.sql.Canonical;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** Reads rows as records: every value rendered by SQL as its canonical text, then typed. */
public final class Rows {
    public static final String VERSION = quote("_version");

    private Rows() {
    }

    /** One row: its primary key, its record version and every value by column id. */
    public record Row(long id, long version, Map<String, Value> values) {
    }

    /** {@code alias.pk, alias._version, canonical text of each column} in catalog order. */
    public static String selectList(Catalog.Table t, String alias) {
        String p = alias == null ? "" : alias + ".";
        StringBuilder sql = new StringBuilder(p).append(quote(t.primaryKey().physical()))
            .append(", ").append(p).append(VERSION);
        for (Catalog.Column col : t.columns().values()) {
            sql.append(", ").append(Canonical.text(col.type(), p + quote(col.physical())));
        }
        return sql.toString();
    }

    /** Reads the columns of {@link #selectList} starting at {@code first}. */
    public static Row read(ResultSet rs, Catalog.Table t, int first) throws SQLException {
        long id = rs.getLong(first);
        long version = rs.getLong(first + 1);
        Map<String, Value> values = new LinkedHashMap<>();
        int i = first + 2;
        for (Catalog.Column col : t.columns().values()) {
            values.put(col.id(), value(col.type(), rs.getString(i++)));
        }
        return new Row(id, version, values);
    }

    /** As {@link #read}, from the texts of one row (e.g. fetched in one thread, turned into records in another). */
    public static Row fromTexts(Catalog.Table t, String[] texts, int first) {
        Map<String, Value> values = new LinkedHashMap<>();
        int i = first + 2;
        for (Catalog.Column col : t.columns().values()) {
            values.put(col.id(), value(col.type(), texts[i++]));
        }
        return new Row(Long.parseLong(texts[first]), Long.parseLong(texts[first + 1]), values);
    }

    public static int width(Catalog.Table t) {
        return 2 + t.columns().size();
    }

    /** A canonical text (or SQL NULL) as the typed Value of API.md's JSON forms. */
    public static Value value(ColumnType type, String canonical) {
        if (canonical == null) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        Value.Builder v = Value.newBuilder();
        return switch (type) {
            case TEXT -> v.setText(canonical).build();
            case INTEGER -> v.setInteger(Long.parseLong(canonical)).build();
            case NUMBER -> v.setNumber(canonical).build();
            case BOOLEAN -> v.setBoolean(Boolean.parseBoolean(canonical)).build();
            case DATE -> v.setDate(canonical).build();
            case TIMESTAMP -> v.setTimestamp(canonical).build();
            case DURATION -> v.setDuration(canonical).build();
            case UUID -> v.setUuid(canonical).build();
            default -> throw new IllegalArgumentException("no value for " + type);
        };
    }
}
