package io.linkbase.search;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.ColumnUnlinked;
import io.linkbase.proto.events.v1.DisplayColumnChanged;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Value;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the rest of Linkbase would do, for tests: schema-service's events (with per-table
 * versions) and record-service's record events, produced to real Kafka, with the same records
 * served by {@link ExportServer} (record-service's export).
 */
public final class World implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final ExportServer export;
    private final Map<String, AtomicLong> versions = new ConcurrentHashMap<>();

    /** A table: id, primary key column, and its text columns by name. */
    public record Table(String tenant, String id, String pk, Map<String, String> columns) {
        public String col(String name) {
            return columns.get(name);
        }
    }

    public World(io.linkbase.devstack.KafkaServer kafka, ExportServer export) {
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        this.export = export;
    }

    public static String tenant(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Table and column ids are UUIDs, as schema-service makes them (search-service refuses others):
     * a name that is not one becomes the same name-based UUID every time, so two tenants given the
     * same name get the same table id.
     */
    public static String uuid(String nameOrId) {
        try {
            return UUID.fromString(nameOrId).toString().equals(nameOrId.toLowerCase()) ? nameOrId
                : UUID.nameUUIDFromBytes(nameOrId.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
        } catch (IllegalArgumentException e) {
            return UUID.nameUUIDFromBytes(nameOrId.getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();
        }
    }

    /** TableCreated with a primary key and text columns; the first text column is the display column. */
    public Table table(String tenant, String tableName, String... textColumns) {
        String tableId = uuid(tableName);
        String pk = uuid(tableId + "-pk");
        Map<String, String> cols = new LinkedHashMap<>();
        TableCreated.Builder created = TableCreated.newBuilder().setName("T " + tableName).setPrimaryKeyColumnId(pk)
            .addColumns(ColumnDef.newBuilder().setColumnId(pk).setName("id").setType(ColumnType.INTEGER)
                .setPrimaryKey(true).setUnique(true));
        for (String name : textColumns) {
            String id = uuid(tableId + "-" + name.toLowerCase());
            cols.put(name, id);
            created.addColumns(ColumnDef.newBuilder().setColumnId(id).setName(name).setType(ColumnType.TEXT));
        }
        created.setDisplayColumnId(textColumns.length > 0 ? cols.get(textColumns[0]) : pk);
        schema(tenant, tableId, EventEnvelope.newBuilder().setTableCreated(created));
        return new Table(tenant, tableId, pk, cols);
    }

    /** ColumnLinked on {@code from}'s column to {@code to}'s primary key; returns the link_version. */
    public long link(Table from, String column, Table to) {
        return schema(from.tenant(), from.id(), EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder()
            .setColumnId(column).setTargetTableId(to.id()).setTargetColumnId(to.pk())
            .setTargetColumnType(ColumnType.INTEGER).setOnDelete(OnDelete.SET_NULL).setPreviousType(ColumnType.TEXT)));
    }

    public long unlink(Table from, String column, Table to) {
        return schema(from.tenant(), from.id(), EventEnvelope.newBuilder().setColumnUnlinked(ColumnUnlinked.newBuilder()
            .setColumnId(column).setTargetTableId(to.id()).setTargetColumnId(to.pk()).setRestoredType(ColumnType.INTEGER)));
    }

    public long displayColumn(Table t, String column) {
        return schema(t.tenant(), t.id(), EventEnvelope.newBuilder().setDisplayColumnChanged(
            DisplayColumnChanged.newBuilder().setDisplayColumnId(column)));
    }

    public long schema(String tenant, String table, EventEnvelope.Builder payload) {
        long v = versions.computeIfAbsent(tenant + "/" + table, k -> new AtomicLong()).incrementAndGet();
        send(Topics.SCHEMA, Envelopes.seal(payload, tenant, table, v, "", "", Instant.now()));
        return v;
    }

    /** A record as record-service has it (export) and announces it (RecordUpserted). */
    public void upsert(Table t, long id, long version, String... nameValuePairs) {
        Map<String, Value> values = values(t, id, nameValuePairs);
        export.put(t.tenant(), t.id(), id, version, values);
        recordEvent(t, EventEnvelope.newBuilder().setRecordUpserted(RecordUpserted.newBuilder().setTableId(t.id())
            .setRecordId(id).setRecordVersion(version).putAllValues(values)));
    }

    /** Only the export has it (a record that existed before any link). */
    public void existing(Table t, long id, long version, String... nameValuePairs) {
        export.put(t.tenant(), t.id(), id, version, values(t, id, nameValuePairs));
    }

    /** Only the event (e.g. a stale or duplicate delivery); the export is left alone. */
    public void upsertEventOnly(Table t, long id, long version, String... nameValuePairs) {
        recordEvent(t, EventEnvelope.newBuilder().setRecordUpserted(RecordUpserted.newBuilder().setTableId(t.id())
            .setRecordId(id).setRecordVersion(version).putAllValues(values(t, id, nameValuePairs))));
    }

    public void delete(Table t, long id, long version) {
        export.remove(t.tenant(), t.id(), id);
        recordEvent(t, EventEnvelope.newBuilder().setRecordDeleted(RecordDeleted.newBuilder().setTableId(t.id())
            .setRecordId(id).setRecordVersion(version)));
    }

    private Map<String, Value> values(Table t, long id, String... nameValuePairs) {
        Map<String, Value> values = new LinkedHashMap<>();
        values.put(t.pk(), Value.newBuilder().setInteger(id).build());
        for (int i = 0; i < nameValuePairs.length; i += 2) {
            values.put(t.col(nameValuePairs[i]), Value.newBuilder().setText(nameValuePairs[i + 1]).build());
        }
        return values;
    }

    private void recordEvent(Table t, EventEnvelope.Builder payload) {
        long v = versions.computeIfAbsent("records:" + t.tenant() + "/" + t.id(), k -> new AtomicLong()).incrementAndGet();
        send(Topics.RECORDS, Envelopes.seal(payload, t.tenant(), t.id(), v, "", "", Instant.now()));
    }

    private void send(String topic, EventEnvelope e) {
        producer.send(new ProducerRecord<>(topic, Envelopes.kafkaKey(e), e.toByteArray()));
        producer.flush();
    }

    public static SearchServiceGrpc.SearchServiceBlockingStub search(ManagedChannel channel, String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return SearchServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    public static SearchServiceGrpc.SearchServiceStub searchAsync(ManagedChannel channel, String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return SearchServiceGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    public static List<String> names(io.linkbase.proto.v1.SuggestResponse r) {
        return r.getSuggestionsList().stream().map(io.linkbase.proto.v1.Suggestion::getSummary).toList();
    }

    @Override
    public void close() {
        producer.close();
    }
}
