package io.linkbase.schema.linkstate;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.events.v1.LinkTargetIndexed;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;
import java.util.Set;

/**
 * Moves a link from RECONCILING to ACTIVE: record-service's LinkReconciled (with the kept and
 * cleared counts) and search-service's LinkTargetIndexed each mark the live link they answer,
 * matched by {@code link_version}, so a report about an earlier link of the same column (since
 * unlinked and linked again) changes nothing. Applied by an unordered {@link EventConsumer}: a
 * redelivered report sets the same values again.
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
public class LinkStateFollower {
    public static final String CONSUMER = "schema-service.link-state";
    /**
     * The only events this consumer reads; every other event of its topics (every
     * RecordUpserted) is skipped by its {@code event_type} header, unparsed and without a
     * transaction. Both are idempotent updates keyed by {@code link_version}, so they need no
     * applied-versions ordering (which a filtered stream, with its gaps, could never satisfy).
     */
    static final Set<String> TYPES = Set.of(
        Envelopes.typeOf(EventEnvelope.PayloadCase.LINK_RECONCILED),
        Envelopes.typeOf(EventEnvelope.PayloadCase.LINK_TARGET_INDEXED));

    private final EventConsumer consumer;

    public LinkStateFollower(KafkaSettings kafka, Db db) {
        this.consumer = EventConsumer.builder(CONSUMER, kafka, db)
            .topics(List.of(Topics.RECORDS, Topics.SEARCH))
            .eventTypes(TYPES)
            .unordered(LinkStateFollower::apply)
            .build();
    }

    public EventConsumer consumer() {
        return consumer;
    }

    @EventListener
    void onStartup(StartupEvent event) {
        consumer.start();
    }

    @EventListener
    void onShutdown(ShutdownEvent event) {
        consumer.close();
    }

    static boolean apply(Connection c, EventEnvelope e) throws SQLException {
        switch (e.getPayloadCase()) {
            case LINK_RECONCILED -> {
                LinkReconciled r = e.getLinkReconciled();
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE links SET reconciled = true, kept_count = ?, cleared_count = ? "
                        + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? AND link_version = ?")) {
                    s.setLong(1, r.getKeptCount());
                    s.setLong(2, r.getClearedCount());
                    s.setString(3, e.getTenantId());
                    s.setString(4, r.getTableId());
                    s.setString(5, r.getColumnId());
                    s.setLong(6, r.getLinkVersion());
                    s.executeUpdate();
                }
                return true;
            }
            case LINK_TARGET_INDEXED -> {
                LinkTargetIndexed i = e.getLinkTargetIndexed();
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE links SET indexed = true "
                        + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? AND link_version = ?")) {
                    s.setString(1, e.getTenantId());
                    s.setString(2, i.getTableId());
                    s.setString(3, i.getColumnId());
                    s.setLong(4, i.getLinkVersion());
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
}
