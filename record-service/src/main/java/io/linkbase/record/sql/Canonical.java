package io.linkbase.record.sql;

import io.linkbase.proto.v1.ColumnType;

/**
 * SQL expressions for canonical text (API.md "Exact match"), built from the functions of the
 * V2 migration. Reads, events, retyping, preview and reconciliation all use these, so a value
 * has one canonical text everywhere.
 */
public final class Canonical {
    private Canonical() {
    }

    /** The canonical text of {@code expr}, a value of {@code type}. */
    public static String text(ColumnType type, String expr) {
        return switch (type) {
            case TEXT -> expr;
            case INTEGER, BOOLEAN, UUID -> "(" + expr + ")::text";
            case NUMBER -> "public.lb_canon_number(" + expr + ")";
            case DATE -> "public.lb_canon_date(" + expr + ")";
            case TIMESTAMP -> "public.lb_canon_timestamp(" + expr + ")";
            case DURATION -> "public.lb_canon_duration(" + expr + ")";
            default -> throw new IllegalArgumentException("no canonical text for " + type);
        };
    }

    /** {@code textExpr} parsed as {@code type}: NULL unless it is exactly a canonical text. */
    public static String parse(ColumnType type, String textExpr) {
        return switch (type) {
            case TEXT -> textExpr;
            case INTEGER -> "public.lb_parse_integer(" + textExpr + ")";
            case NUMBER -> "public.lb_parse_number(" + textExpr + ")";
            case BOOLEAN -> "public.lb_parse_boolean(" + textExpr + ")";
            case DATE -> "public.lb_parse_date(" + textExpr + ")";
            case TIMESTAMP -> "public.lb_parse_timestamp(" + textExpr + ")";
            case DURATION -> "public.lb_parse_duration(" + textExpr + ")";
            case UUID -> "public.lb_parse_uuid(" + textExpr + ")";
            default -> throw new IllegalArgumentException("cannot parse " + type);
        };
    }

    /**
     * {@code expr} of type {@code from} converted to {@code to} by the exact canonical-text rule:
     * the converted value has the same canonical text, or the result is NULL.
     */
    public static String convert(ColumnType from, ColumnType to, String expr) {
        if (from == to) {
            return expr;
        }
        return parse(to, text(from, expr));
    }

    /**
     * Whether equality of two values of {@code type} is equality of their canonical texts
     * (not so for intervals: '1 day' = '24 hours', yet P1D and PT24H differ).
     */
    public static boolean equalityIsTextual(ColumnType type) {
        return type != ColumnType.DURATION;
    }
}
