package io.linkbase.record.reconcile;

import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.consumer.AppliedVersions;
import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.ddl.SchemaEventApplier;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.DriverManager;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.linkbase.record.sql.PhysicalNames.quote;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Reconciliation against the same SQL run bare, on identical data in the same run (not a timed
 * test: it prints the figures; docs/benchmarks.md has the command). Size from
 * {@code -Dlinkbase.bench.rows} (default 10,000, so a plain verify stays quick); the target has
 * a tenth as many rows and every tenth source value is a near miss ("0" + id).
 *
 * <p>Bare: clear the mismatches, convert text to bigint, add the FOREIGN KEY NOT VALID and
 * validate it, in one transaction. Service: the ColumnLinked event delivered through the
 * idempotent consumer, which runs the same statements plus what the bare SQL lacks: capturing
 * each cleared value, bumping record versions, the catalog, and one outbox event per cleared
 * record plus LinkReconciled, in one transaction.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ReconcileBenchmarkIT implements TestPropertyProvider {
    private static final int ROWS = Integer.getInteger("linkbase.bench.rows", 10_000);
    private static final int TARGET_ROWS = Math.max(1, ROWS / 10);
    private final String database = "record_bench_" + UUID.randomUUID().toString().substring(0, 8);

    @Inject
    Db db;
    @Inject
    KafkaSettings kafka;
    /** The service's own role (devstack ServiceWiring): tables the bare SQL makes must be the service's too. */
    @io.micronaut.context.annotation.Value("${datasources.default.username}")
    String dbUser;
    @io.micronaut.context.annotation.Value("${datasources.default.password}")
    String dbPassword;

    @Override
    public Map<String, String> getProperties() {
        // No Kafka needed: nothing is consumed or relayed; the outbox is counted instead.
        return ServiceWiring.service()
            .database(TestServers.postgres(), database)
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .property("linkbase.consumers.enabled", "false")
            .property("linkbase.outbox.relay.enabled", "false")
            .properties();
    }

    @Test
    void reconcilesCloseToTheBareSql() throws SQLException {
        EventConsumer consumer = new EventConsumer(SchemaEventApplier.CONSUMER, List.of(Topics.SCHEMA), kafka, db,
            (c, e) -> SchemaEventApplier.apply(db, c, e));
        int runs = Integer.getInteger("linkbase.bench.runs", 1);
        System.out.printf("%n[bench] reconcile %,d rows (%,d mismatches) against %,d target rows, text -> integer, "
            + "%d run(s)%n", ROWS, ROWS / 10, TARGET_ROWS, runs);
        List<Double> ratios = new java.util.ArrayList<>();
        for (int run = 1; run <= runs; run++) {
            ratios.add(once(consumer, "bench" + run, run % 2 == 0));
        }
        ratios.sort(null);
        System.out.printf("[bench] median ratio service/bare: %.2fx%n%n", ratios.get(ratios.size() / 2));
    }

    /** One run on fresh tables; returns service time / bare time. */
    private double once(EventConsumer consumer, String tenant, boolean serviceFirst) throws SQLException {
        Table target = table(consumer, tenant, "Name");
        Table bare = table(consumer, tenant, "Ref");
        Table service = table(consumer, tenant, "Ref");
        sql("INSERT INTO " + target.qualified(tenant) + " (" + quote(target.physicalText()) + ") "
            + "SELECT 'artist ' || g FROM generate_series(1, " + TARGET_ROWS + ") g");
        for (Table t : List.of(bare, service)) {
            sql("INSERT INTO " + t.qualified(tenant) + " (" + quote(t.physicalText()) + ") SELECT CASE WHEN g % 10 = 0 "
                + "THEN '0' || (g % " + TARGET_ROWS + " + 1) ELSE (g % " + TARGET_ROWS + " + 1)::text END "
                + "FROM generate_series(1, " + ROWS + ") g");
        }
        sql("VACUUM ANALYZE");
        long outboxBefore = count("SELECT COALESCE(sum(events), 0) FROM outbox WHERE event_type = 'RecordUpserted'");

        // Bare: the very statements reconciliation runs, minus its bookkeeping.
        LinkSql statements = db.read(c -> {
            Catalog.Table from = Catalog.require(c, tenant, bare.id());
            Catalog.Table to = Catalog.require(c, tenant, target.id());
            return LinkSql.of(from, from.column(bare.textColumn()).orElseThrow(), to, to.primaryKey(),
                OnDelete.SET_NULL, "fk_bare");
        });
        EventEnvelope linked = Envelopes.seal(EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder()
                .setColumnId(service.textColumn()).setTargetTableId(target.id()).setTargetColumnId(target.pk())
                .setTargetColumnType(ColumnType.INTEGER).setOnDelete(OnDelete.SET_NULL).setPreviousType(ColumnType.TEXT)),
            tenant, service.id(), 2, "", "", Instant.now());
        long bareNanos = 0;
        long serviceNanos = 0;
        for (int step = 0; step < 2; step++) {
            if ((step == 0) == serviceFirst) {
                long t1 = System.nanoTime();
                assertThat(consumer.deliver(linked)).isEqualTo(AppliedVersions.Verdict.APPLY);
                serviceNanos = System.nanoTime() - t1;
            } else {
                long t0 = System.nanoTime();
                db.inTransaction(c -> {
                    try (Statement s = c.createStatement()) {
                        s.executeUpdate(statements.bareClear());
                        s.execute(statements.retype());
                        s.execute(statements.addForeignKey());
                        s.execute(statements.validate());
                    }
                    return null;
                });
                bareNanos = System.nanoTime() - t0;
            }
        }

        long mismatches = ROWS / 10;
        for (Table t : List.of(bare, service)) {
            assertThat(count("SELECT count(" + quote(t.physicalText()) + ") FROM " + t.qualified(tenant)))
                .isEqualTo(ROWS - mismatches);
        }
        long events = count("SELECT COALESCE(sum(events), 0) FROM outbox WHERE event_type = 'RecordUpserted'") - outboxBefore;
        assertThat(events).isEqualTo(mismatches);
        // LinkReconciled comes in parts that each fit a Kafka message and together list every cleared value.
        List<io.linkbase.proto.events.v1.LinkReconciled> parts = db.read(c -> {
            List<io.linkbase.proto.events.v1.LinkReconciled> found = new java.util.ArrayList<>();
            try (java.sql.PreparedStatement q = c.prepareStatement(
                "SELECT envelope FROM outbox WHERE event_type = 'LinkReconciled' AND kafka_key = ? ORDER BY id")) {
                q.setString(1, tenant + "/" + service.id());
                try (ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        assertThat(rs.getBytes(1).length).isLessThan(1_000_000);
                        found.add(Envelopes.parse(rs.getBytes(1)).getLinkReconciled());
                    }
                }
            }
            return found;
        });
        assertThat(parts).allSatisfy(p -> assertThat(p.getClearedCount()).isEqualTo(mismatches));
        assertThat(parts.stream().mapToInt(p -> p.getClearedValuesCount()).sum()).isEqualTo((int) mismatches);
        double ratio = (double) serviceNanos / bareNanos;
        System.out.printf("[bench] %s  bare SQL %,7d ms | record-service %,7d ms (+ %,d RecordUpserted and "
                + "LinkReconciled in the outbox) | ratio %.2fx%n", tenant, bareNanos / 1_000_000, serviceNanos / 1_000_000,
            events, ratio);
        undo(consumer, tenant, bare, service, target);
        return ratio;
    }

    /**
     * Undo of the service's link (ColumnLinkUndone through the consumer: drop the foreign key,
     * convert back to text, restore every cleared value, publish them) next to the same work bare
     * on the bare table: drop the foreign key, convert back, one UPDATE from a table of the cleared
     * values (made before the clock starts).
     */
    private void undo(EventConsumer consumer, String tenant, Table bare, Table service, Table target) throws SQLException {
        long mismatches = ROWS / 10;
        long outboxBefore = count("SELECT COALESCE(sum(events), 0) FROM outbox WHERE event_type = 'RecordUpserted'");
        EventEnvelope undone = Envelopes.seal(EventEnvelope.newBuilder().setColumnLinkUndone(ColumnLinkUndone.newBuilder()
                .setColumnId(service.textColumn()).setTargetTableId(target.id()).setTargetColumnId(target.pk())
                .setRestoredType(ColumnType.TEXT).setLinkVersion(2)),
            tenant, service.id(), 3, "", "", Instant.now());
        long t0 = System.nanoTime();
        assertThat(consumer.deliver(undone)).isEqualTo(AppliedVersions.Verdict.APPLY);
        long serviceNanos = System.nanoTime() - t0;
        String kept = "public.bare_undo_" + tenant;
        sql("CREATE TABLE " + kept + " AS SELECT g AS id, '0' || (g % " + TARGET_ROWS + " + 1) AS v "
            + "FROM generate_series(10, " + ROWS + ", 10) g");
        sql("ALTER TABLE " + kept + " ADD PRIMARY KEY (id)");
        sql("VACUUM ANALYZE " + kept);
        String barePk = quote(io.linkbase.record.sql.PhysicalNames.column(bare.pk()));
        long t1 = System.nanoTime();
        db.inTransaction(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + bare.qualified(tenant) + " DROP CONSTRAINT fk_bare");
                s.execute("ALTER TABLE " + bare.qualified(tenant) + " ALTER COLUMN " + quote(bare.physicalText())
                    + " TYPE text USING " + quote(bare.physicalText()) + "::text");
                s.executeUpdate("UPDATE " + bare.qualified(tenant) + " a SET " + quote(bare.physicalText()) + " = k.v FROM "
                    + kept + " k WHERE a." + barePk + " = k.id");
            }
            return null;
        });
        long bareNanos = System.nanoTime() - t1;
        // Every value is back as it was generated, near misses ("0" + id) included.
        String col = quote(service.physicalText());
        assertThat(count("SELECT count(*) FROM " + service.qualified(tenant) + " WHERE " + col
            + " IS DISTINCT FROM (CASE WHEN " + quote(io.linkbase.record.sql.PhysicalNames.column(service.pk()))
            + " % 10 = 0 THEN '0' ELSE '' END || (" + quote(io.linkbase.record.sql.PhysicalNames.column(service.pk()))
            + " % " + TARGET_ROWS + " + 1)::text)")).isZero();
        assertThat(count("SELECT COALESCE(sum(events), 0) FROM outbox WHERE event_type = 'RecordUpserted'") - outboxBefore).isEqualTo(mismatches);
        assertThat(count("SELECT count(*) FROM " + bare.qualified(tenant) + " WHERE " + quote(bare.physicalText())
            + " LIKE '0%'")).isEqualTo(mismatches);
        System.out.printf("[bench] %s  undo: bare SQL %,7d ms | record-service %,7d ms (%,d values restored, + as many "
                + "RecordUpserted in the outbox) | ratio %.2fx%n", tenant, bareNanos / 1_000_000, serviceNanos / 1_000_000,
            mismatches, (double) serviceNanos / bareNanos);
    }

    private record Table(String id, String pk, String textColumn) {
        String qualified(String tenant) {
            return io.linkbase.record.sql.PhysicalNames.qualified(tenant, id);
        }

        String physicalText() {
            return io.linkbase.record.sql.PhysicalNames.column(textColumn);
        }
    }

    private Table table(EventConsumer consumer, String tenant, String textName) {
        String id = UUID.randomUUID().toString();
        String pk = UUID.randomUUID().toString();
        String text = UUID.randomUUID().toString();
        EventEnvelope created = Envelopes.seal(EventEnvelope.newBuilder().setTableCreated(TableCreated.newBuilder()
            .setName("t").setPrimaryKeyColumnId(pk).setDisplayColumnId(text)
            .addColumns(ColumnDef.newBuilder().setColumnId(pk).setName("id").setType(ColumnType.INTEGER).setPrimaryKey(true))
            .addColumns(ColumnDef.newBuilder().setColumnId(text).setName(textName).setType(ColumnType.TEXT))),
            tenant, id, 1, "", "", Instant.now());
        assertThat(consumer.deliver(created)).isEqualTo(AppliedVersions.Verdict.APPLY);
        return new Table(id, pk, text);
    }

    private void sql(String sql) throws SQLException {
        // Outside any transaction (VACUUM cannot run in one).
        try (Connection c = DriverManager.getConnection(TestServers.postgres().jdbcUrl(database), dbUser, dbPassword)) {
            try (Statement s = c.createStatement()) {
                s.execute(sql);
            }
        }
    }

    private long count(String sql) {
        return db.read(c -> {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }
}
