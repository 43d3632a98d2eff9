package io.linkbase.search.recordevents;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.consumer.Follower;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.search.index.Doc;
import io.linkbase.search.index.Documents;
import io.linkbase.search.index.IndexMigrations;
import io.linkbase.search.index.IndexWrites;
import io.linkbase.search.targets.SchemaView;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the documents of target tables current from the record events, in two lanes: one
 * consumer ({@value #CONSUMER}) of the interactive topic {@code linkbase.records.v1} and one
 * ({@value #BULK_CONSUMER}) of the bulk topic {@code linkbase.records.bulk.v1}, each with its own
 * thread, Kafka consumer and group, so a million-row import queued on the bulk lane never
 * delays a single interactive write. Each polled batch becomes one bulk write with external
 * versioning on record_version, so redelivered, duplicated, reordered or interleaved (between
 * lanes) events can never put an older value over a newer one; this is why neither lane needs
 * applied-versions bookkeeping. Offsets are committed only after OpenSearch accepted the batch;
 * OpenSearch unreachable, 429 or 5xx re-reads and retries the batch; a document OpenSearch
 * refuses on its own (a mapping error) parks its event, not the batch; an unreadable event is
 * parked. Only RecordUpserted and RecordDeleted are read (by their header). Events of tables
 * that are not targets are skipped (a later backfill covers them).
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
public class RecordEventFollower implements Follower {
    public static final String CONSUMER = "search-service.records";
    public static final String BULK_CONSUMER = "search-service.records-bulk";
    static final Set<String> TYPES = Set.of(
        Envelopes.typeOf(EventEnvelope.PayloadCase.RECORD_UPSERTED),
        Envelopes.typeOf(EventEnvelope.PayloadCase.RECORD_DELETED));

    private final SchemaView catalog;
    private final IndexMigrations migrations;
    private final IndexWrites writes;
    private final EventConsumer interactive;
    private final EventConsumer bulk;

    public RecordEventFollower(KafkaSettings kafka, Db db, SchemaView catalog, IndexMigrations migrations, IndexWrites writes) {
        this.catalog = catalog;
        this.migrations = migrations;
        this.writes = writes;
        this.interactive = lane(CONSUMER, Topics.RECORDS, kafka, db);
        this.bulk = lane(BULK_CONSUMER, Topics.RECORDS_BULK, kafka, db);
    }

    private EventConsumer lane(String name, String topic, KafkaSettings kafka, Db db) {
        return EventConsumer.builder(name, kafka, db)
            .topics(topic)
            .eventTypes(TYPES)
            .keysWanted(this::targetKeys)
            .transientWhen(RecordEventFollower::targetNotKnownYet)
            .batch(this::apply)
            .build();
    }

    /**
     * SchemaView's "target is not known yet" (SQLState 55000): the target's TableCreated, on another
     * partition of the schema topic, has not been applied yet; it comes, so wait for it.
     */
    static boolean targetNotKnownYet(Throwable t) {
        return t instanceof java.sql.SQLException e && "55000".equals(e.getSQLState());
    }

    public EventConsumer interactive() {
        return interactive;
    }

    public EventConsumer bulk() {
        return bulk;
    }

    /**
     * The Kafka keys ({@code tenant/table}, record-service's key) of a poll that belong to target
     * tables, so that the events of other tables (a big import of a table nothing links to) are
     * skipped before they are parsed. A key of another form is kept: {@link #apply} decides.
     */
    Set<String> targetKeys(Set<String> kafkaKeys) {
        List<String[]> tables = new ArrayList<>();
        Map<String, String> kafkaKeyOf = new java.util.HashMap<>();
        Set<String> wanted = new java.util.HashSet<>();
        for (String k : kafkaKeys) {
            int slash = k.lastIndexOf('/');
            if (slash <= 0 || slash == k.length() - 1) {
                wanted.add(k);
                continue;
            }
            String[] tt = {k.substring(0, slash), k.substring(slash + 1)};
            tables.add(tt);
            kafkaKeyOf.put(SchemaView.key(tt[0], tt[1]), k);
        }
        for (String target : catalog.targetShapes(tables).keySet()) {
            wanted.add(kafkaKeyOf.get(target));
        }
        return wanted;
    }

    /** One poll: the target tables' documents in one bulk write; returns the events refused on their own. */
    Map<Integer, String> apply(List<EventEnvelope> events) {
        migrations.ensure();
        Map<String, String[]> tables = new LinkedHashMap<>();
        for (EventEnvelope e : events) {
            String table = tableOf(e);
            if (table != null) {
                tables.putIfAbsent(SchemaView.key(e.getTenantId(), table), new String[] {e.getTenantId(), table});
            }
        }
        Map<String, SchemaView.TableShape> targets = catalog.targetShapes(new ArrayList<>(tables.values()));
        if (targets.isEmpty()) {
            return Map.of();
        }
        List<Doc> docs = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            EventEnvelope e = events.get(i);
            if (e.hasRecordUpserted()) {
                RecordUpserted u = e.getRecordUpserted();
                SchemaView.TableShape shape = targets.get(SchemaView.key(e.getTenantId(), u.getTableId()));
                if (shape != null) {
                    docs.add(Documents.of(e.getTenantId(), u.getTableId(), u.getRecordId(), u.getRecordVersion(),
                        u.getValuesMap(), shape.displayColumnId(), shape.primaryKeyColumnId()));
                    positions.add(i);
                }
            } else if (e.hasRecordDeleted()) {
                RecordDeleted d = e.getRecordDeleted();
                if (targets.containsKey(SchemaView.key(e.getTenantId(), d.getTableId()))) {
                    docs.add(new Doc.Delete(e.getTenantId(), d.getTableId(), d.getRecordId(), d.getRecordVersion()));
                    positions.add(i);
                }
            }
        }
        Map<Integer, String> refused = new LinkedHashMap<>();
        writes.writeEach(docs, IndexWrites.Versioning.EXTERNAL)
            .forEach((doc, reason) -> refused.put(positions.get(doc), "OpenSearch refused the document: " + reason));
        return refused;
    }

    private static String tableOf(EventEnvelope e) {
        return switch (e.getPayloadCase()) {
            case RECORD_UPSERTED -> e.getRecordUpserted().getTableId();
            case RECORD_DELETED -> e.getRecordDeleted().getTableId();
            default -> null; // LinkReconciled and the like are not about documents
        };
    }

    @Override
    public List<EventConsumer> consumers() {
        return List.of(interactive, bulk);
    }
}
