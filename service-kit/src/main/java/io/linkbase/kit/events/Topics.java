package io.linkbase.kit.events;

/** The Kafka topics of ARCHITECTURE.md, keyed by {@code tenant_id/aggregate_id}. */
public final class Topics {
    public static final String SCHEMA = "linkbase.schema.v1";
    public static final String RECORDS = "linkbase.records.v1";
    public static final String SEARCH = "linkbase.search.v1";

    private Topics() {
    }
}
