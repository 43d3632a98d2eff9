package io.linkbase.record.records;

import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.internal.v1.ErrorInfo;
import io.linkbase.proto.internal.v1.ExportRecordsRequest;
import io.linkbase.proto.internal.v1.ExportedPage;
import io.linkbase.proto.internal.v1.ExportedRecord;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateRecordsRequest;
import io.linkbase.proto.v1.CreateRecordsResponse;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.ListRecordsRequest;
import io.linkbase.proto.v1.ListRecordsResponse;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.RecordValues;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.support.RecordServiceHarness;
import io.linkbase.record.support.SchemaEvents;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

import static io.linkbase.proto.events.v1.EventEnvelope.PayloadCase.RECORD_DELETED;
import static io.linkbase.proto.events.v1.EventEnvelope.PayloadCase.RECORD_UPSERTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** Records over gRPC on real PostgreSQL, with their events on real Kafka. */
@MicronautTest(transactional = false)
class RecordsIT extends RecordServiceHarness {

    /** A tenant on a small plan: at most 5 records per table. */
    private static final String SMALL_PLAN = "quota-" + java.util.UUID.randomUUID().toString().substring(0, 8);

    @Override
    protected String database() {
        return "record_records_it";
    }

    @Override
    public java.util.Map<String, String> getProperties() {
        java.util.Map<String, String> p = new java.util.HashMap<>(super.getProperties());
        p.put("linkbase.quotas.rows-per-table-overrides", SMALL_PLAN + "=5");
        return p;
    }

    @Test
    void rowsPerTableIsAQuotaThatRefusesWholeWritesAndCountsDeletes() {
        SchemaEvents s = new SchemaEvents(producer, db, SMALL_PLAN).provision();
        SchemaEvents.Table t = s.createTable("things", "Name", ColumnType.TEXT);
        SchemaEvents.Table other = s.createTable("others", "Name", ColumnType.TEXT);
        CreateRecordsRequest.Builder three = CreateRecordsRequest.newBuilder().setTableId(t.id());
        for (int i = 0; i < 3; i++) {
            three.addRecords(values(t, "Name", text("n" + i)));
        }
        assertThat(api(s.tenant()).createRecords(three.build()).getIdsCount()).isEqualTo(3);
        ErrorInfo refused = failure(() -> api(s.tenant()).createRecords(three.build()));
        assertThat(refused.getCode()).isEqualTo("limit_exceeded");
        assertThat(list(s, t, 100, null).getRecordsCount()).as("a refused batch writes nothing").isEqualTo(3);
        create(s, t, "Name", text("four"));
        Record five = create(s, t, "Name", text("five"));
        assertThat(failure(() -> create(s, t, "Name", text("six"))).getCode()).isEqualTo("limit_exceeded");
        assertThat(create(s, other, "Name", text("another table has its own count")).getVersion()).isEqualTo(1);
        delete(s, t, five.getId());
        assertThat(create(s, t, "Name", text("five again")).getVersion()).isEqualTo(1);
        assertThat(list(s, t, 100, null).getRecordsCount()).isEqualTo(5);
        // a tenant on the default plan is not affected
        SchemaEvents d = newTenant("default-plan");
        SchemaEvents.Table u = d.createTable("things", "Name", ColumnType.TEXT);
        for (int i = 0; i < 6; i++) {
            create(d, u, "Name", text("n" + i));
        }
        assertThat(list(d, u, 100, null).getRecordsCount()).isEqualTo(6);
    }

    @Test
    void createGetUpdateMergeAndVersionsGrowWithEveryChange() {
        SchemaEvents s = newTenant("crud");
        SchemaEvents.Table t = s.createTable("things", "Name", ColumnType.TEXT, "Qty", ColumnType.INTEGER,
            "Price", ColumnType.NUMBER, "Done", ColumnType.BOOLEAN, "Day", ColumnType.DATE, "At", ColumnType.TIMESTAMP,
            "Took", ColumnType.DURATION, "Ref", ColumnType.UUID);
        Record r = create(s, t, "Name", text("pen"), "Qty", integer(3),
            "Price", Value.newBuilder().setNumber("1.50").build(), "Done", Value.newBuilder().setBoolean(true).build(),
            "Day", Value.newBuilder().setDate("2024-01-31").build(),
            "At", Value.newBuilder().setTimestamp("2024-01-31T10:00:00+01:00").build(), "Took", duration("PT3M25S"),
            "Ref", Value.newBuilder().setUuid("0F8FAD5B-D9CB-469F-A165-70867728950E").build());
        assertThat(r.getVersion()).isEqualTo(1);
        assertThat(r.getValuesMap().get(t.col("id"))).isEqualTo(integer(r.getId()));
        assertThat(r.getValuesMap().get(t.col("Price")).getNumber()).isEqualTo("1.5");
        assertThat(r.getValuesMap().get(t.col("At")).getTimestamp()).isEqualTo("2024-01-31T09:00:00Z");
        assertThat(r.getValuesMap().get(t.col("Took")).getDuration()).isEqualTo("PT3M25S");
        assertThat(r.getValuesMap().get(t.col("Ref")).getUuid()).isEqualTo("0f8fad5b-d9cb-469f-a165-70867728950e");
        assertThat(r.getValuesMap().get(t.col("Day")).getDate()).isEqualTo("2024-01-31");

        Record u = api(s.tenant()).updateRecord(UpdateRecordRequest.newBuilder().setTableId(t.id()).setRecordId(r.getId())
            .putValues(t.col("Qty"), integer(4)).build());
        assertThat(u.getVersion()).isEqualTo(2);
        assertThat(u.getValuesMap().get(t.col("Qty"))).isEqualTo(integer(4));
        assertThat(u.getValuesMap().get(t.col("Name"))).as("merged").isEqualTo(text("pen"));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), t.id(), RECORD_UPSERTED)).extracting(e -> e.getRecordUpserted().getRecordVersion())
                .containsExactly(1L, 2L));
        EventEnvelope last = tap.events(s.tenant(), t.id(), RECORD_UPSERTED).get(1);
        assertThat(last.getRecordUpserted().getValuesMap().get(t.col("Qty"))).isEqualTo(integer(4));
        assertThat(last.getAggregateVersion()).isEqualTo(2);
    }

    @Test
    void badValuesAreRefusedWithTheirFieldAndChangeNothing() {
        SchemaEvents s = newTenant("bad");
        SchemaEvents.Table t = s.createTable("things", "Qty", ColumnType.INTEGER, "Day", ColumnType.DATE,
            "Took", ColumnType.DURATION);
        ErrorInfo e = failure(() -> create(s, t, "Qty", text("three")));
        assertThat(e.getCode()).isEqualTo("validation_failed");
        assertThat(e.getErrors(0).getField()).isEqualTo("values." + t.col("Qty"));
        assertThat(failure(() -> create(s, t, "Day", Value.newBuilder().setDate("2024-02-30").build())).getCode())
            .isEqualTo("validation_failed");
        assertThat(failure(() -> create(s, t, "Took", duration("3 minutes"))).getCode()).isEqualTo("validation_failed");
        assertThat(failure(() -> create(s, t, "id", integer(7))).getCode()).isEqualTo("validation_failed");
        assertThat(list(s, t, 1000, null).getRecordsCount()).isZero();
        assertThat(failure(() -> list(s, t, 1001, null)).getCode()).isEqualTo("validation_failed");
    }

    @Test
    void anotherTenantsTableIsNotFound() {
        SchemaEvents mine = newTenant("mine");
        SchemaEvents theirs = newTenant("theirs");
        SchemaEvents.Table t = mine.createTable("secret", "Name", ColumnType.TEXT);
        Record r = create(mine, t, "Name", text("x"));
        assertThat(failure(() -> get(theirs, t, r.getId())).getCode()).isEqualTo("not_found");
        assertThat(failure(() -> create(theirs, t, "Name", text("y"))).getCode()).isEqualTo("not_found");
        assertThat(failure(() -> api(theirs.tenant()).deleteRecord(DeleteRecordRequest.newBuilder()
            .setTableId(t.id()).setRecordId(r.getId()).build())).getCode()).isEqualTo("not_found");
        assertThat(get(mine, t, r.getId()).getValuesMap().get(t.col("Name"))).isEqualTo(text("x"));
    }

    @Test
    void aLinkedColumnAcceptsOnlyAnExistingTargetValue() {
        SchemaEvents s = newTenant("fk");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long abba = create(s, artist, "Name", text("Abba")).getId();
        SchemaEvents.Table track = s.createTable("track", "Artist", ColumnType.INTEGER);
        s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.SET_NULL);

        Record ok = create(s, track, "Artist", integer(abba));
        assertThat(ok.getLinksMap().get(track.col("Artist")).getSummary()).isEqualTo("Abba");
        ErrorInfo e = failure(() -> create(s, track, "Artist", integer(abba + 100)));
        assertThat(e.getCode()).isEqualTo("validation_failed");
        assertThat(e.getErrors(0).getField()).isEqualTo("values." + track.col("Artist"));
        assertThat(failure(() -> api(s.tenant()).updateRecord(UpdateRecordRequest.newBuilder().setTableId(track.id())
            .setRecordId(ok.getId()).putValues(track.col("Artist"), integer(abba + 100)).build())).getCode())
            .isEqualTo("validation_failed");
        assertThat(list(s, track, 100, null).getRecordsList()).extracting(Record::getId).containsExactly(ok.getId());
        assertThat(get(s, track, ok.getId()).getVersion()).isEqualTo(1);
    }

    @Test
    void aBatchIsAllOrNothing() {
        SchemaEvents s = newTenant("batch");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long abba = create(s, artist, "Name", text("Abba")).getId();
        SchemaEvents.Table track = s.createTable("track", "Title", ColumnType.TEXT, "Artist", ColumnType.INTEGER);
        s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.SET_NULL);

        CreateRecordsRequest.Builder bad = CreateRecordsRequest.newBuilder().setTableId(track.id());
        for (int i = 0; i < 50; i++) {
            bad.addRecords(values(track, "Title", text("t" + i), "Artist", integer(abba)));
        }
        bad.addRecords(values(track, "Artist", integer(abba + 1))); // no such artist: a real FK violation
        assertThat(failure(() -> api(s.tenant()).createRecords(bad.build())).getCode()).isEqualTo("validation_failed");
        CreateRecordsRequest.Builder badType = CreateRecordsRequest.newBuilder().setTableId(track.id())
            .addRecords(values(track, "Title", text("ok"))).addRecords(values(track, "Title", integer(1)));
        ErrorInfo e = failure(() -> api(s.tenant()).createRecords(badType.build()));
        assertThat(e.getErrors(0).getField()).isEqualTo("records[1].values." + track.col("Title"));
        assertThat(list(s, track, 1000, null).getRecordsCount()).isZero();

        CreateRecordsRequest.Builder good = CreateRecordsRequest.newBuilder().setTableId(track.id());
        for (int i = 0; i < 10_000; i++) {
            good.addRecords(i % 2 == 0 ? values(track, "Title", text("t" + i), "Artist", integer(abba))
                : values(track, "Title", text("t" + i)));
        }
        CreateRecordsResponse ids = api(s.tenant()).createRecords(good.build());
        assertThat(ids.getIdsList()).hasSize(10_000).isSorted();
        assertThat(get(s, track, ids.getIds(9_999)).getValuesMap().get(track.col("Title"))).isEqualTo(text("t9999"));
        assertThat(get(s, track, ids.getIds(0)).getLinksMap().get(track.col("Artist")).getSummary()).isEqualTo("Abba");
        CreateRecordsRequest.Builder tooMany = CreateRecordsRequest.newBuilder().setTableId(track.id());
        for (int i = 0; i <= 10_000; i++) {
            tooMany.addRecords(RecordValues.getDefaultInstance());
        }
        assertThat(failure(() -> api(s.tenant()).createRecords(tooMany.build())).getCode()).isEqualTo("payload_too_large");
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), track.id(), RECORD_UPSERTED)).hasSize(10_000));
    }

    @Test
    void listingPagesByIdAndExportStreamsOneSnapshotWithVersions() {
        SchemaEvents s = newTenant("page");
        SchemaEvents.Table t = s.createTable("rows", "N", ColumnType.INTEGER);
        CreateRecordsRequest.Builder batch = CreateRecordsRequest.newBuilder().setTableId(t.id());
        for (int i = 0; i < 250; i++) {
            batch.addRecords(values(t, "N", integer(i)));
        }
        List<Long> ids = api(s.tenant()).createRecords(batch.build()).getIdsList();
        api(s.tenant()).updateRecord(UpdateRecordRequest.newBuilder().setTableId(t.id()).setRecordId(ids.get(7))
            .putValues(t.col("N"), integer(-7)).build());

        List<Long> seen = new ArrayList<>();
        Long after = null;
        int pages = 0;
        do {
            ListRecordsResponse page = list(s, t, 100, after);
            page.getRecordsList().forEach(r -> seen.add(r.getId()));
            after = page.hasNext() ? page.getNext() : null;
            pages++;
        } while (after != null);
        assertThat(pages).isEqualTo(3);
        assertThat(seen).containsExactlyElementsOf(ids);
        assertThat(list(s, t, 0, null).getRecordsCount()).as("default limit").isEqualTo(100);

        List<ExportedRecord> exported = new ArrayList<>();
        Iterator<ExportedPage> it = api(s.tenant()).exportRecords(ExportRecordsRequest.newBuilder().setTableId(t.id()).build());
        List<ExportedPage> exportedPages = new ArrayList<>();
        it.forEachRemaining(exportedPages::add);
        exportedPages.forEach(p -> exported.addAll(p.getRecordsList()));
        assertThat(exportedPages.get(0).getTotal()).as("the snapshot's count, on the first page").isEqualTo(ids.size());
        assertThat(exported).extracting(ExportedRecord::getRecordId).containsExactlyElementsOf(ids);
        assertThat(exported.get(7).getRecordVersion()).isEqualTo(2);
        assertThat(exported.get(7).getValuesMap().get(t.col("N"))).isEqualTo(integer(-7));
        assertThat(exported.get(8).getRecordVersion()).isEqualTo(1);
    }

    @Test
    void deletingAReferencedRecordSetsReferencesToNull() {
        SchemaEvents s = newTenant("setnull");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long abba = create(s, artist, "Name", text("Abba")).getId();
        long queen = create(s, artist, "Name", text("Queen")).getId();
        SchemaEvents.Table track = s.createTable("track", "Artist", ColumnType.INTEGER);
        s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.SET_NULL);
        Record t1 = create(s, track, "Artist", integer(abba));
        Record t2 = create(s, track, "Artist", integer(queen));

        delete(s, artist, abba);

        assertThat(failure(() -> get(s, artist, abba)).getCode()).isEqualTo("not_found");
        Record after = get(s, track, t1.getId());
        assertThat(after.getValuesMap().get(track.col("Artist"))).isEqualTo(nil());
        assertThat(after.getVersion()).isEqualTo(t1.getVersion() + 1);
        assertThat(get(s, track, t2.getId()).getVersion()).isEqualTo(t2.getVersion());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            assertThat(tap.events(s.tenant(), track.id(), RECORD_UPSERTED)).anySatisfy(e -> {
                assertThat(e.getRecordUpserted().getRecordId()).isEqualTo(t1.getId());
                assertThat(e.getRecordUpserted().getRecordVersion()).isEqualTo(2);
                assertThat(e.getRecordUpserted().getValuesMap().get(track.col("Artist"))).isEqualTo(nil());
            });
            assertThat(tap.events(s.tenant(), artist.id(), RECORD_DELETED)).singleElement()
                .satisfies(e -> assertThat(e.getRecordDeleted().getRecordVersion()).isEqualTo(2));
        });
    }

    @Test
    void deletingAReferencedRecordIsRestricted() {
        SchemaEvents s = newTenant("restrict");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long abba = create(s, artist, "Name", text("Abba")).getId();
        long lonely = create(s, artist, "Name", text("Lonely")).getId();
        SchemaEvents.Table track = s.createTable("track", "Artist", ColumnType.INTEGER);
        s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.RESTRICT);
        Record t1 = create(s, track, "Artist", integer(abba));

        ErrorInfo e = failure(() -> delete(s, artist, abba));
        assertThat(e.getCode()).isEqualTo("restricted_by_link");
        assertThat(get(s, artist, abba).getVersion()).isEqualTo(1);
        assertThat(get(s, track, t1.getId()).getValuesMap().get(track.col("Artist"))).isEqualTo(integer(abba));
        delete(s, artist, lonely);
        assertThat(failure(() -> get(s, artist, lonely)).getCode()).isEqualTo("not_found");
    }

    @Test
    void deletingAReferencedRecordCascadesThroughChainsAndSelfLinks() {
        SchemaEvents s = newTenant("cascade");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long abba = create(s, artist, "Name", text("Abba")).getId();
        SchemaEvents.Table track = s.createTable("track", "Title", ColumnType.TEXT, "Artist", ColumnType.INTEGER,
            "Remix of", ColumnType.INTEGER);
        s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.CASCADE);
        s.link(track, "Remix of", track, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.CASCADE);
        long song = create(s, track, "Title", text("SOS"), "Artist", integer(abba)).getId();
        long remix = create(s, track, "Title", text("SOS remix"), "Remix of", integer(song)).getId();
        long remix2 = create(s, track, "Title", text("SOS remix remix"), "Remix of", integer(remix)).getId();
        long other = create(s, track, "Title", text("Other")).getId();
        assertThat(get(s, track, remix).getLinksMap().get(track.col("Remix of")).getSummary()).isEqualTo("SOS");

        delete(s, artist, abba);

        for (long gone : List.of(song, remix, remix2)) {
            assertThat(failure(() -> get(s, track, gone)).getCode()).isEqualTo("not_found");
        }
        assertThat(get(s, track, other).getVersion()).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), track.id(), RECORD_DELETED))
                .extracting(x -> x.getRecordDeleted().getRecordId()).containsExactlyInAnyOrder(song, remix, remix2));
    }

    @Test
    void namesThatAreSqlFragmentsAreOnlyMetadata() {
        SchemaEvents s = newTenant("inj");
        String evil = "\"; DROP TABLE physical_tables; --";
        SchemaEvents.Table target = s.createTable("Robert'); DROP TABLE students;--",
            evil, ColumnType.TEXT, "\" OR 1=1 --!", ColumnType.TEXT);
        long a = create(s, target, evil, text("'; DELETE FROM outbox; --"), "\" OR 1=1 --", text("k1")).getId();
        SchemaEvents.Table source = s.createTable(evil, "a\"b'c", ColumnType.TEXT, "$$;$$", ColumnType.TEXT);
        long keep = create(s, source, "a\"b'c", text("k1"), "$$;$$", text("x")).getId();
        long drop = create(s, source, "a\"b'c", text("k1' OR '1'='1")).getId();

        LinkPreview preview = api(s.tenant()).previewLink(LinkPreviewRequest.newBuilder().setTableId(source.id())
            .setColumnId(source.col("a\"b'c")).setTargetTableId(target.id()).setTargetColumnId(target.col("\" OR 1=1 --"))
            .build());
        assertThat(preview.getKeptCount()).isEqualTo(1);
        assertThat(preview.getClearedCount()).isEqualTo(1);
        s.link(source, "a\"b'c", target, "\" OR 1=1 --", ColumnType.TEXT, ColumnType.TEXT, OnDelete.CASCADE);
        s.retype(source, "$$;$$", ColumnType.TEXT, ColumnType.INTEGER);
        s.unique(source, "$$;$$", true);

        assertThat(get(s, source, keep).getLinksMap().get(source.col("a\"b'c")).getSummary())
            .isEqualTo("'; DELETE FROM outbox; --");
        assertThat(get(s, source, drop).getValuesMap().get(source.col("a\"b'c"))).isEqualTo(nil());
        delete(s, target, a);
        assertThat(failure(() -> get(s, source, keep)).getCode()).isEqualTo("not_found");
        assertThat(count("SELECT count(*) FROM physical_tables")).isPositive();
    }

    @Test
    void linkSummariesFollowTheDisplayColumnAndPreviewNeedsAUniqueTarget() {
        SchemaEvents s = newTenant("summary");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT, "Country", ColumnType.TEXT);
        long abba = create(s, artist, "Name", text("Abba"), "Country", text("SE")).getId();
        SchemaEvents.Table track = s.createTable("track", "Artist", ColumnType.INTEGER);
        s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.SET_NULL);
        long t1 = create(s, track, "Artist", integer(abba)).getId();
        assertThat(get(s, track, t1).getLinksMap().get(track.col("Artist")).getSummary()).isEqualTo("Abba");

        s.display(artist, "Country");
        assertThat(get(s, track, t1).getLinksMap().get(track.col("Artist")).getSummary()).isEqualTo("SE");
        api(s.tenant()).updateRecord(UpdateRecordRequest.newBuilder().setTableId(artist.id()).setRecordId(abba)
            .putValues(artist.col("Country"), text("Sweden")).build());
        assertThat(list(s, track, 10, null).getRecords(0).getLinksMap().get(track.col("Artist")).getSummary())
            .isEqualTo("Sweden");

        assertThat(failure(() -> api(s.tenant()).previewLink(LinkPreviewRequest.newBuilder().setTableId(track.id())
            .setColumnId(track.col("Artist")).setTargetTableId(artist.id()).setTargetColumnId(artist.col("Name")).build()))
            .getCode()).isEqualTo("link_target_not_unique");
        SchemaEvents other = newTenant("other");
        assertThat(failure(() -> api(other.tenant()).exportRecords(ExportRecordsRequest.newBuilder()
            .setTableId(track.id()).build()).hasNext()).getCode()).isEqualTo("not_found");
    }

    private RecordValues values(SchemaEvents.Table t, Object... nameValue) {
        RecordValues.Builder r = RecordValues.newBuilder();
        for (int i = 0; i < nameValue.length; i += 2) {
            r.putValues(t.col((String) nameValue[i]), (Value) nameValue[i + 1]);
        }
        return r.build();
    }

    private ListRecordsResponse list(SchemaEvents s, SchemaEvents.Table t, int limit, Long after) {
        ListRecordsRequest.Builder r = ListRecordsRequest.newBuilder().setTableId(t.id()).setLimit(limit);
        if (after != null) {
            r.setAfter(after);
        }
        return api(s.tenant()).listRecords(r.build());
    }

    private void delete(SchemaEvents s, SchemaEvents.Table t, long id) {
        api(s.tenant()).deleteRecord(DeleteRecordRequest.newBuilder().setTableId(t.id()).setRecordId(id).build());
    }
}
