package io.linkbase.record.reconcile;

import io.linkbase.devstack.TestServers;
import io.linkbase.proto.events.v1.ClearedValue;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.record.support.LinkUnderWrites;
import io.linkbase.record.support.RecordServiceHarness;
import io.linkbase.record.support.SchemaEvents;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import org.junit.jupiter.api.Test;

import io.grpc.StatusRuntimeException;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Consistency;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.Value;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static io.linkbase.proto.events.v1.EventEnvelope.PayloadCase.LINK_RECONCILED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Writers during a large link (issue 14, point 3): the reconciliation keeps writers out only for
 * one short step, so writes to either table issued while it runs complete before it ends; and a
 * value written meanwhile that matches no target is refused or cleared, never left dangling.
 * Ordering and progress are asserted, not wall-clock times (LinkWriteWaitBenchmarkIT measures).
 */
@MicronautTest(transactional = false)
class LinkWritersIT extends RecordServiceHarness {
    @Override
    protected String database() {
        return "record_link_writers_it";
    }

    @Test
    void writesToBothTablesGoOnWhileALargeLinkReconcilesAndNoValueMatchingNothingStays() throws Exception {
        SchemaEvents s = newTenant("writers");
        LinkUnderWrites run = new LinkUnderWrites(db, s, () -> api(s.tenant()), TestServers.postgres().jdbcUrl(database()),
            TestServers.postgres().user(), TestServers.postgres().password(), 300_000, 100_000);
        run.setUp();

        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (Runnable w : run.writers(stop, false, 2)) {
            Thread t = new Thread(w, "writer");
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        // when the link's reconciliation began (its row appeared) and when its column was converted
        AtomicLong began = new AtomicLong();
        AtomicLong converted = new AtomicLong();
        Thread watcher = new Thread(() -> {
            while (!stop.get() && converted.get() == 0) {
                String phase = run.phase();
                if (phase != null && began.get() == 0) {
                    began.set(System.nanoTime());
                }
                if (phase != null && !phase.equals("CLEARING")) {
                    converted.set(System.nanoTime());
                }
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "link-watcher");
        watcher.setDaemon(true);
        watcher.start();
        EventEnvelope linked;
        long ended;
        try {
            Thread.sleep(300);
            linked = run.link();
            ended = System.nanoTime();
            Thread.sleep(200);
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
            watcher.join(5_000);
        }
        assertThat(began.get()).as("the reconciliation's first step was seen").isPositive();
        assertThat(converted.get()).as("its conversion step was seen before it ended").isPositive().isLessThan(ended);
        System.out.printf("[link-writers] reconciliation %,d ms after its first step, column converted after %,d ms%n",
            (ended - began.get()) / 1_000_000, (converted.get() - began.get()) / 1_000_000);

        List<LinkUnderWrites.Write> writes = List.copyOf(run.writes);
        assertThat(writes).allSatisfy(w -> assertThat(w.outcome()).as(w.writer() + " " + w.recordId())
            .isIn("ok", "refused"));
        // Progress: writes to each table issued after the reconciliation began finished before it ended
        // (with the tables locked for the whole reconciliation, none would).
        for (String table : List.of("track", "artist")) {
            long during = writes.stream().filter(w -> w.table().equals(table) && w.start() > began.get() && w.end() < ended)
                .count();
            assertThat(during).as("writes to " + table + " that began and ended while the link reconciled").isGreaterThanOrEqualTo(3);
        }
        // ... and so did writes of the linked column issued after it was converted (each checked by the foreign key)
        assertThat(writes.stream().filter(w -> w.writer().startsWith("track: Artist") && w.start() > converted.get()
            && w.end() < ended)).isNotEmpty();

        // Never a value matching nothing: the foreign key is validated, nothing dangles, and each
        // such write was refused or its value cleared.
        assertThat(foreignKeys(s, run.track)).hasSize(1);
        assertThat(run.dangling()).isZero();
        List<LinkUnderWrites.Write> noSuchArtist = writes.stream().filter(w -> w.writer().equals("track: Artist, no such artist"))
            .toList();
        assertThat(noSuchArtist).isNotEmpty();
        long cleared = 0;
        for (LinkUnderWrites.Write w : noSuchArtist) {
            if (w.outcome().equals("ok")) {
                assertThat(run.artistOf(w.recordId())).as("record " + w.recordId() + " written " + w.value()).isNull();
                cleared++;
            }
        }
        long refused = noSuchArtist.size() - cleared;
        assertThat(refused).as("writes matching nothing refused by the foreign key").isPositive();
        System.out.printf("[link-writers] %,d writes; values matching nothing: %,d stored then cleared by the link, %,d refused%n",
            writes.size(), cleared, refused);

        // A target deleted meanwhile follows the link's on-delete action (SET NULL) or was deleted
        // before the link took effect (its references cleared by it): either way nothing points to it.
        assertThat(run.deletedArtists).isNotEmpty();
        String artistCol = run.col(run.track, "Artist");
        assertThat(run.count("SELECT count(*) FROM " + run.qualified(run.track) + " WHERE " + artistCol + " = ANY ('{"
            + String.join(",", run.deletedArtists.stream().map(String::valueOf).toList()) + "}'::bigint[])")).isZero();

        // LinkReconciled exactly once, its cleared values the near misses and the numbers no artist has.
        List<LinkReconciled> parts = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            parts.clear();
            tap.events(s.tenant(), run.track.id(), LINK_RECONCILED).forEach(e -> parts.add(e.getLinkReconciled()));
            assertThat(parts).isNotEmpty();
            assertThat(parts.stream().mapToLong(LinkReconciled::getClearedValuesCount).sum())
                .isEqualTo(parts.get(0).getClearedCount());
        });
        Set<Long> clearedIds = new HashSet<>();
        Map<Long, String> reported = new HashMap<>();
        for (LinkReconciled p : parts) {
            assertThat(p.getLinkVersion()).isEqualTo(linked.getAggregateVersion());
            for (ClearedValue v : p.getClearedValuesList()) {
                assertThat(clearedIds.add(v.getRecordId())).as("cleared once: " + v.getRecordId()).isTrue();
                reported.put(v.getRecordId(), v.getFormerValue().getText());
            }
        }
        // what undo will restore: exactly the values LinkReconciled reports, byte for byte, and each
        // of those records is empty now unless a writer filled it since
        Map<Long, String> kept = db.read(c -> {
            Map<Long, String> m = new HashMap<>();
            try (java.sql.PreparedStatement q = c.prepareStatement("SELECT record_id, former FROM link_undo_values "
                + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? AND cleared")) {
                q.setString(1, s.tenant());
                q.setString(2, run.track.id());
                q.setString(3, run.track.col("Artist"));
                try (java.sql.ResultSet rs = q.executeQuery()) {
                    while (rs.next()) {
                        m.put(rs.getLong(1), rs.getString(2));
                    }
                }
            }
            return m;
        });
        assertThat(kept).isEqualTo(reported);
        assertThat(run.count("SELECT count(*) FROM " + run.qualified(run.track) + " WHERE " + artistCol + " IS NOT NULL AND "
            + run.col(run.track, "id") + " = ANY ('{" + String.join(",", clearedIds.stream().filter(id -> id <= run.rows
            - LinkUnderWrites.RESERVED).map(String::valueOf).toList()) + "}'::bigint[])")).isZero();
        long untouchedMisses = 0;
        for (long g = 1; g <= run.rows - LinkUnderWrites.RESERVED; g++) {
            if (g % 10 == 9 || g % 10 == 8) {
                untouchedMisses++;
                if (!clearedIds.contains(g)) {
                    throw new AssertionError("record " + g + " matched nothing but is not among the cleared values");
                }
            }
        }
        assertThat(untouchedMisses).isPositive();
    }

    /**
     * A single-record write at the link's table version (as the gateway sends it once a client has
     * seen the link) goes on while the reconciliation still clears the column: here the link is
     * held in {@code CLEARING} by a row lock on a value its clearing must reach. The write is
     * checked as the foreign key will check it and answered as of the link's version; without
     * {@code PendingLink} it would wait for the column's conversion (and time out here).
     */
    @Test
    void aWriteAtTheLinksVersionGoesOnWhileItsColumnIsStillBeingCleared() throws Exception {
        SchemaEvents s = newTenant("pending");
        String url = TestServers.postgres().jdbcUrl(database());
        LinkUnderWrites run = new LinkUnderWrites(db, s, () -> api(s.tenant()), url, TestServers.postgres().user(),
            TestServers.postgres().password(), 2_000, 1_000);
        run.setUp();
        String artistCol = run.col(run.track, "Artist");
        String artist = run.track.col("Artist");
        String title = run.track.col("Title");
        CompletableFuture<EventEnvelope> linked;
        Record created;
        try (Connection hold = DriverManager.getConnection(url, TestServers.postgres().user(), TestServers.postgres().password())) {
            hold.setAutoCommit(false);
            try (Statement st = hold.createStatement()) {
                // track 9's Artist is "010", a near miss the clearing has to reach: hold its row
                st.execute("SELECT 1 FROM " + run.qualified(run.track) + " WHERE " + run.col(run.track, "id") + " = 9 FOR UPDATE");
            }
            long linkVersion = s.applied(run.track.id()) + 1;
            linked = CompletableFuture.supplyAsync(run::link);
            await().atMost(Duration.ofSeconds(30)).until(() -> "CLEARING".equals(run.phase()));
            RecordServiceGrpc.RecordServiceBlockingStub atLink = Consistency.after(api(s.tenant()),
                Map.of(run.track.id(), linkVersion)).withDeadlineAfter(8, TimeUnit.SECONDS);

            Record set = atLink.updateRecord(UpdateRecordRequest.newBuilder().setTableId(run.track.id()).setRecordId(1)
                .putValues(artist, integer(5)).build());
            assertThat(set.getValuesMap().get(artist)).isEqualTo(integer(5));
            assertThat(set.getLinksMap().get(artist).getRecordId()).isEqualTo(5);
            assertThat(set.getLinksMap().get(artist).getSummary()).isEqualTo("Artist 5");
            created = atLink.createRecord(CreateRecordRequest.newBuilder().setTableId(run.track.id())
                .putValues(title, text("new")).putValues(artist, integer(7)).build());
            assertThat(created.getValuesMap().get(artist)).isEqualTo(integer(7));
            assertThat(created.getLinksMap().get(artist).getRecordId()).isEqualTo(7);
            // the record's value is not converted yet, and will be cleared: empty as of the link's version
            Record titled = atLink.updateRecord(UpdateRecordRequest.newBuilder().setTableId(run.track.id()).setRecordId(19)
                .putValues(title, text("renamed")).build());
            assertThat(titled.getValuesMap().get(artist).getKindCase()).isEqualTo(Value.KindCase.NULL_VALUE);
            assertThat(titled.getLinksMap()).doesNotContainKey(artist);
            // what the foreign key will refuse is refused now, and what the link's type refuses too
            StatusRuntimeException noSuchArtist = catchThrowableOfType(() -> atLink.updateRecord(UpdateRecordRequest.newBuilder()
                .setTableId(run.track.id()).setRecordId(2).putValues(artist, integer(999_999)).build()), StatusRuntimeException.class);
            assertThat(ApiException.infoOf(noSuchArtist).getErrors(0).getMessage()).isEqualTo("no record of the linked table has this value");
            StatusRuntimeException asText = catchThrowableOfType(() -> atLink.updateRecord(UpdateRecordRequest.newBuilder()
                .setTableId(run.track.id()).setRecordId(3).putValues(artist, text("5")).build()), StatusRuntimeException.class);
            assertThat(ApiException.infoOf(asText).getErrors(0).getMessage()).isEqualTo("must be an integer");

            assertThat(run.phase()).as("every write above went on while the column was still being cleared").isEqualTo("CLEARING");
            assertThat(run.artistOf(1)).isEqualTo("5");
            assertThat(run.artistOf(2)).isEqualTo("3");
            hold.rollback();
        }
        linked.get(60, TimeUnit.SECONDS);
        assertThat(run.phase()).isEqualTo("ACTIVE");
        assertThat(run.count("SELECT " + artistCol + " FROM " + run.qualified(run.track) + " WHERE " + run.col(run.track, "id")
            + " = 1")).isEqualTo(5);
        assertThat(run.count("SELECT " + artistCol + " FROM " + run.qualified(run.track) + " WHERE " + run.col(run.track, "id")
            + " = " + created.getId())).isEqualTo(7);
        assertThat(run.artistOf(2)).isEqualTo("3");
        assertThat(run.artistOf(19)).isNull();
        assertThat(run.dangling()).isZero();
    }
}
