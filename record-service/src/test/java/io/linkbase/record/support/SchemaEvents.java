package io.linkbase.record.support;

import io.linkbase.kit.consumer.AppliedVersions;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.proto.events.v1.ColumnAdded;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.ColumnDropped;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.ColumnTypeChanged;
import io.linkbase.proto.events.v1.ColumnUniqueChanged;
import io.linkbase.proto.events.v1.ColumnUnlinked;
import io.linkbase.proto.events.v1.DisplayColumnChanged;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.events.v1.TableDeleted;
import io.linkbase.proto.events.v1.TenantProvisioned;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.record.ddl.SchemaEventApplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Plays schema-service for a test: builds schema events as schema-service does (one version
 * sequence per table), publishes them to real Kafka and waits until record-service applied them.
 */
public final class SchemaEvents {
    private final KafkaProducer<String, byte[]> producer;
    private final Db db;
    private final String tenant;
    private final Map<String, Long> versions = new HashMap<>();
    private final Map<String, EventEnvelope> last = new HashMap<>();

    public SchemaEvents(KafkaProducer<String, byte[]> producer, Db db, String tenant) {
        this.producer = producer;
        this.db = db;
        this.tenant = tenant;
    }

    public String tenant() {
        return tenant;
    }

    /** A table as the test knows it: ids by user-facing name. */
    public record Table(String id, String pk, Map<String, String> columns) {
        public String col(String name) {
            String id = columns.get(name);
            if (id == null) {
                throw new AssertionError("no column " + name);
            }
            return id;
        }
    }

    public SchemaEvents provision() {
        send(Envelopes.TENANT_AGGREGATE, EventEnvelope.newBuilder().setTenantProvisioned(TenantProvisioned.getDefaultInstance()));
        return this;
    }

    /** columns: name, type, name, type, ... ; a name ending in '!' is unique (the '!' is dropped). */
    public Table createTable(String name, Object... columns) {
        String table = UUID.randomUUID().toString();
        String pk = UUID.randomUUID().toString();
        TableCreated.Builder created = TableCreated.newBuilder().setName(name).setPrimaryKeyColumnId(pk)
            .addColumns(ColumnDef.newBuilder().setColumnId(pk).setName("id").setType(ColumnType.INTEGER).setPrimaryKey(true));
        Map<String, String> ids = new LinkedHashMap<>();
        ids.put("id", pk);
        String display = null;
        for (int i = 0; i < columns.length; i += 2) {
            String colName = (String) columns[i];
            boolean unique = colName.endsWith("!");
            colName = unique ? colName.substring(0, colName.length() - 1) : colName;
            ColumnType type = (ColumnType) columns[i + 1];
            String id = UUID.randomUUID().toString();
            ids.put(colName, id);
            created.addColumns(ColumnDef.newBuilder().setColumnId(id).setName(colName).setType(type).setUnique(unique));
            if (display == null && type == ColumnType.TEXT) {
                display = id;
            }
        }
        created.setDisplayColumnId(display == null ? pk : display);
        send(table, EventEnvelope.newBuilder().setTableCreated(created));
        return new Table(table, pk, ids);
    }

    public String addColumn(Table t, String name, ColumnType type) {
        String id = UUID.randomUUID().toString();
        send(t.id(), EventEnvelope.newBuilder().setColumnAdded(ColumnAdded.newBuilder()
            .setColumn(ColumnDef.newBuilder().setColumnId(id).setName(name).setType(type))));
        t.columns().put(name, id);
        return id;
    }

    public EventEnvelope link(Table t, String column, Table target, String targetColumn, ColumnType targetType,
                              ColumnType previous, OnDelete onDelete) {
        return send(t.id(), EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder()
            .setColumnId(t.col(column)).setTargetTableId(target.id()).setTargetColumnId(target.col(targetColumn))
            .setTargetColumnType(targetType).setOnDelete(onDelete).setPreviousType(previous)));
    }

    public EventEnvelope unlink(Table t, String column, Table target, String targetColumn, ColumnType restored) {
        return send(t.id(), EventEnvelope.newBuilder().setColumnUnlinked(ColumnUnlinked.newBuilder()
            .setColumnId(t.col(column)).setTargetTableId(target.id()).setTargetColumnId(target.col(targetColumn))
            .setRestoredType(restored)));
    }

    public EventEnvelope undoLink(Table t, String column, Table target, String targetColumn, ColumnType restored,
                                  EventEnvelope linked) {
        return send(t.id(), EventEnvelope.newBuilder().setColumnLinkUndone(ColumnLinkUndone.newBuilder()
            .setColumnId(t.col(column)).setTargetTableId(target.id()).setTargetColumnId(target.col(targetColumn))
            .setRestoredType(restored).setLinkVersion(linked.getAggregateVersion())));
    }

    public EventEnvelope retype(Table t, String column, ColumnType from, ColumnType to) {
        return send(t.id(), EventEnvelope.newBuilder().setColumnTypeChanged(ColumnTypeChanged.newBuilder()
            .setColumnId(t.col(column)).setFromType(from).setToType(to)));
    }

    public EventEnvelope unique(Table t, String column, boolean unique) {
        return send(t.id(), EventEnvelope.newBuilder().setColumnUniqueChanged(ColumnUniqueChanged.newBuilder()
            .setColumnId(t.col(column)).setUnique(unique)));
    }

    public EventEnvelope drop(Table t, String column) {
        return send(t.id(), EventEnvelope.newBuilder().setColumnDropped(ColumnDropped.newBuilder().setColumnId(t.col(column))));
    }

    public EventEnvelope display(Table t, String column) {
        return send(t.id(), EventEnvelope.newBuilder().setDisplayColumnChanged(
            DisplayColumnChanged.newBuilder().setDisplayColumnId(t.col(column))));
    }

    public EventEnvelope deleteTable(Table t) {
        return send(t.id(), EventEnvelope.newBuilder().setTableDeleted(TableDeleted.getDefaultInstance()));
    }

    /** Publishes the event again, as a relay that crashed before deleting its outbox row would. */
    public void redeliver(EventEnvelope e) {
        producer.send(new ProducerRecord<>(Topics.SCHEMA, Envelopes.kafkaKey(e), e.toByteArray()));
        producer.flush();
    }

    /** Publishes the next event of the aggregate and waits until record-service applied it. */
    public EventEnvelope send(String aggregate, EventEnvelope.Builder payload) {
        long version = versions.merge(aggregate, 1L, Long::sum);
        EventEnvelope e = Envelopes.seal(payload, tenant, aggregate, version, "", "", Instant.now());
        producer.send(new ProducerRecord<>(Topics.SCHEMA, Envelopes.kafkaKey(e), e.toByteArray()));
        producer.flush();
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(applied(aggregate)).isEqualTo(version));
        last.put(aggregate, e);
        return e;
    }

    public long applied(String aggregate) {
        return db.read(c -> AppliedVersions.current(c, SchemaEventApplier.CONSUMER, tenant, aggregate));
    }
}
