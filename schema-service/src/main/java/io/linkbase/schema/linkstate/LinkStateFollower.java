package io.linkbase.schema.linkstate;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.consumer.Follower;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkProgressed;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.events.v1.LinkTargetIndexed;
import io.linkbase.proto.v1.LinkState;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/**
 * Moves a link from RECONCILING (through INDEXING) to ACTIVE, and keeps the newest LinkProgressed
 * of each phase for the API's {@code progress}: record-service's LinkReconciled (with the kept and
 * cleared counts) and search-service's LinkTargetIndexed each mark the live link they answer,
 * matched by {@code link_version}, so a report about an earlier link of the same column (since
 * unlinked and linked again) changes nothing. Applied by an unordered {@link EventConsumer}: a
 * redelivered report sets the same values again.
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
class LinkStateFollower implements Follower {
    static final String CONSUMER = "schema-service.link-state";
    /**
     * The only events this consumer reads (the reports and progress of links); every other event of its topics (every
     * RecordUpserted) is skipped by its {@code event_type} header, unparsed and without a
     * transaction. Both are idempotent updates keyed by {@code link_version}, so they need no
     * applied-versions ordering (which a filtered stream, with its gaps, could never satisfy).
     */
    static final Set<String> TYPES = Set.of(
        Envelopes.typeOf(EventEnvelope.PayloadCase.LINK_RECONCILED),
        Envelopes.typeOf(EventEnvelope.PayloadCase.LINK_TARGET_INDEXED),
        Envelopes.typeOf(EventEnvelope.PayloadCase.LINK_PROGRESSED));

    private final EventConsumer consumer;

    LinkStateFollower(KafkaSettings kafka, Db db) {
        this.consumer = EventConsumer.builder(CONSUMER, kafka, db)
            .topics(List.of(Topics.RECORDS, Topics.SEARCH))
            .eventTypes(TYPES)
            .unordered(LinkStateFollower::apply)
            .build();
    }

    EventConsumer consumer() {
        return consumer;
    }

    private static java.sql.Timestamp occurredAt(EventEnvelope e) {
        return java.sql.Timestamp.from(java.time.Instant.ofEpochSecond(e.getOccurredAt().getSeconds(), e.getOccurredAt().getNanos()));
    }

    static boolean apply(Connection c, EventEnvelope e) throws SQLException {
        switch (e.getPayloadCase()) {
            case LINK_RECONCILED -> {
                LinkReconciled r = e.getLinkReconciled();
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE links SET reconciled = true, kept_count = ?, cleared_count = ?, "
                        + "reconciled_at = coalesce(reconciled_at, ?), reconciled_applied_at = coalesce(reconciled_applied_at, now()) "
                        + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? AND link_version = ?")) {
                    s.setLong(1, r.getKeptCount());
                    s.setLong(2, r.getClearedCount());
                    s.setTimestamp(3, occurredAt(e));
                    s.setString(4, e.getTenantId());
                    s.setString(5, r.getTableId());
                    s.setString(6, r.getColumnId());
                    s.setLong(7, r.getLinkVersion());
                    s.executeUpdate();
                }
                // the history's record of this link's outcome (outlives the link; the first report counts)
                try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO link_outcomes (tenant_id, table_id, column_id, link_version, kept_count, cleared_count) "
                        + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
                    s.setString(1, e.getTenantId());
                    s.setString(2, r.getTableId());
                    s.setString(3, r.getColumnId());
                    s.setLong(4, r.getLinkVersion());
                    s.setLong(5, r.getKeptCount());
                    s.setLong(6, r.getClearedCount());
                    s.executeUpdate();
                }
                return true;
            }
            case LINK_TARGET_INDEXED -> {
                LinkTargetIndexed i = e.getLinkTargetIndexed();
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE links SET indexed = true, "
                        + "indexed_at = coalesce(indexed_at, ?), indexed_applied_at = coalesce(indexed_applied_at, now()) "
                        + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? AND link_version = ?")) {
                    s.setTimestamp(1, occurredAt(e));
                    s.setString(2, e.getTenantId());
                    s.setString(3, i.getTableId());
                    s.setString(4, i.getColumnId());
                    s.setLong(5, i.getLinkVersion());
                    s.executeUpdate();
                }
                return true;
            }
            case LINK_PROGRESSED -> {
                // The newest report of the phase wins; one that arrives after its phase ended changes nothing.
                LinkProgressed p = e.getLinkProgressed();
                String prefix = p.getPhase() == LinkState.RECONCILING ? "reconcile" : "index";
                String finished = p.getPhase() == LinkState.RECONCILING ? "reconciled" : "indexed";
                if (p.getPhase() != LinkState.RECONCILING && p.getPhase() != LinkState.INDEXING) {
                    return true;
                }
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE links SET " + prefix + "_done = ?, " + prefix + "_total = ?, " + prefix + "_reported_ms = ? "
                        + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? AND link_version = ? AND NOT " + finished
                        + " AND " + prefix + "_reported_ms <= ?")) {
                    s.setLong(1, p.getDone());
                    s.setLong(2, p.getTotal());
                    s.setLong(3, e.getAggregateVersion());
                    s.setString(4, e.getTenantId());
                    s.setString(5, p.getTableId());
                    s.setString(6, p.getColumnId());
                    s.setLong(7, p.getLinkVersion());
                    s.setLong(8, e.getAggregateVersion());
                    s.executeUpdate();
                }
                return true;
            }
            case RECORD_UPSERTED, RECORD_DELETED -> {
                return true; // record changes are not about link state
            }
            default -> {
                return false; // parked, visibly
            }
        }
    }

    @Override
    public List<EventConsumer> consumers() {
        return List.of(consumer);
    }
}
