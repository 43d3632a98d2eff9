package io.linkbase.kit.events;

/** The Kafka topics of ARCHITECTURE.md, keyed by {@code tenant_id/aggregate_id}. */
public final class Topics {
    public static final String SCHEMA = "linkbase.schema.v1";
    public static final String RECORDS = "linkbase.records.v1";
    /**
     * The bulk lane of record events: the same events as {@link #RECORDS}, written by bulk work
     * (batch imports, reconciliations). Published after the interactive lane and consumed by
     * consumers of their own, so one tenant's million-row import never queues ahead of another
     * tenant's single write.
     */
    public static final String RECORDS_BULK = "linkbase.records.bulk.v1";
    public static final String SEARCH = "linkbase.search.v1";

    private Topics() {
    }
}
