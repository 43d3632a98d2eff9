package io.linkbase.record.support;

import io.grpc.StatusRuntimeException;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Consistency;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.sql.PhysicalNames;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * A large link (ColumnLinked through Kafka, reconciled by record-service) while clients write
 * both tables through record-service's gRPC API, one single-row write at a time each: used by
 * {@code LinkWritersIT} (what must hold) and {@code LinkWriteWaitBenchmarkIT} (how long writes wait).
 *
 * <p>Data: {@code artist} (Name) with {@code targets} rows, ids 1..targets; {@code track} (Title,
 * Artist as text) with {@code rows} rows: every 10th Artist value a near miss ({@code "0" + id},
 * which never converts), every 10th another a number no artist has nor gets (10 × targets + row:
 * converts, matches nothing),
 * the rest an artist's id.
 */
public final class LinkUnderWrites {
    /** Writers of the linking table's link column write to these records (one write each, never again). */
    public static final int RESERVED = 20_000;

    /** One write: which writer, when (System.nanoTime), and how it ended ("ok", "refused" or the error). */
    public record Write(String writer, String table, long start, long end, String outcome, long recordId, String value) {
        public long micros() {
            return (end - start) / 1_000;
        }
    }

    private final Db db;
    private final SchemaEvents s;
    private final Supplier<RecordServiceGrpc.RecordServiceBlockingStub> api;
    private final String jdbcUrl;
    private final String user;
    private final String password;
    public final int targets;
    public final int rows;
    public SchemaEvents.Table artist;
    public SchemaEvents.Table track;
    /** Artists deleted by the delete writer, from a set no other writer touches. */
    public final List<Long> deletedArtists = Collections.synchronizedList(new ArrayList<>());
    public final List<Write> writes = Collections.synchronizedList(new ArrayList<>());
    private final AtomicLong nextReserved = new AtomicLong();
    private final AtomicLong nextDeleted = new AtomicLong();
    private final Map<String, Boolean> integerKind = new ConcurrentHashMap<>();

    public LinkUnderWrites(Db db, SchemaEvents s, Supplier<RecordServiceGrpc.RecordServiceBlockingStub> api, String jdbcUrl,
                           String user, String password, int targets, int rows) {
        this.db = db;
        this.s = s;
        this.api = api;
        this.jdbcUrl = jdbcUrl;
        this.user = user;
        this.password = password;
        this.targets = targets;
        this.rows = rows;
    }

    /** Creates and fills the two tables (bare SQL: the link, not the import, is under test). */
    public void setUp() throws SQLException {
        artist = s.createTable("artist", "Name", ColumnType.TEXT);
        track = s.createTable("track", "Title", ColumnType.TEXT, "Artist", ColumnType.TEXT);
        sql("INSERT INTO " + qualified(artist) + " (" + col(artist, "Name") + ") SELECT 'Artist ' || g FROM generate_series(1, "
            + targets + ") g");
        sql("INSERT INTO " + qualified(track) + " (" + col(track, "Title") + ", " + col(track, "Artist") + ") SELECT 'T' || g, "
            + "CASE WHEN g % 10 = 9 THEN '0' || (g % " + targets + " + 1) WHEN g % 10 = 8 THEN (10 * " + targets + " + g)::text "
            + "ELSE (g % " + targets + " + 1)::text END FROM generate_series(1, " + rows + ") g");
        sql("VACUUM ANALYZE " + qualified(artist));
        sql("VACUUM ANALYZE " + qualified(track));
    }

    /** Links track.Artist to artist's id (SET NULL on delete) and waits until record-service applied it. */
    public EventEnvelope link() {
        return s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.TEXT, OnDelete.SET_NULL);
    }

    /** The writers: each a loop of single-row writes until {@code stop}. */
    public List<Runnable> writers(AtomicBoolean stop, boolean withTableVersion, long linkVersion) {
        List<Runnable> all = new ArrayList<>();
        // Records the writers of the link column use: the last RESERVED ones (one write each).
        long firstReserved = rows - RESERVED + 1;
        all.add(loop(stop, "track: Title", () -> {
            long id = ThreadLocalRandom.current().nextLong(1, firstReserved);
            return writeTrack("track: Title", withTableVersion, linkVersion, id, "Title", "w" + id);
        }));
        all.add(loop(stop, "track: Artist, no such artist", () -> {
            long n = nextReserved.getAndIncrement();
            long id = firstReserved + n;
            // alternately a value that never converts and one that converts but matches no artist
            String value = n % 2 == 0 ? "x" + n : Long.toString(1_000_000_000_000L + n);
            return writeTrack("track: Artist, no such artist", withTableVersion, linkVersion, id, "Artist", value);
        }));
        all.add(loop(stop, "artist: Name", () -> {
            long id = ThreadLocalRandom.current().nextLong(targets / 2 + 1, targets + 1);
            return write("artist: Name", "artist", () -> api.get().updateRecord(UpdateRecordRequest.newBuilder()
                .setTableId(artist.id()).setRecordId(id).putValues(artist.col("Name"), text("Renamed " + id)).build()), id, null);
        }));
        all.add(loop(stop, "artist: insert", () -> write("artist: insert", "artist", () -> api.get().createRecord(
            CreateRecordRequest.newBuilder().setTableId(artist.id()).putValues(artist.col("Name"), text("New")).build()), 0, null)));
        all.add(loop(stop, "artist: delete", () -> {
            // artists referenced by track rows whose Artist no writer touches: ids rows/2 + 1 ...
            long id = rows / 2 + 1 + nextDeleted.getAndIncrement();
            Write w = write("artist: delete", "artist", () -> api.get().deleteRecord(DeleteRecordRequest.newBuilder()
                .setTableId(artist.id()).setRecordId(id).build()), id, null);
            if (w.outcome().equals("ok")) {
                deletedArtists.add(id);
            }
            return w;
        }));
        return all;
    }

    private Runnable loop(AtomicBoolean stop, String name, Supplier<Write> one) {
        return () -> {
            while (!stop.get()) {
                writes.add(one.get());
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        };
    }

    /**
     * A write of track's column: Artist as an integer once the column is linked (a value that is
     * not a number is then refused for its type), as text before; Title always as text.
     */
    private Write writeTrack(String writer, boolean withTableVersion, long linkVersion, long id, String column, String value) {
        boolean numeric = value.matches("[0-9]+");
        boolean integer = column.equals("Artist") && numeric && integerKind.getOrDefault(column, false);
        long start = System.nanoTime();
        Write w = write(writer, "track", () -> stub(withTableVersion, linkVersion).updateRecord(UpdateRecordRequest.newBuilder()
            .setTableId(track.id()).setRecordId(id).putValues(track.col(column), valueOf(value, integer)).build()), id, value);
        if (column.equals("Artist") && w.outcome().startsWith("invalid: ") && w.outcome().contains("must be")) {
            if (!numeric) {
                return new Write(writer, "track", start, w.end(), "refused", id, value);
            }
            // the column changed type under this writer: write it again in the column's new type
            integerKind.put(column, !integer);
            Write again = write(writer, "track", () -> stub(withTableVersion, linkVersion).updateRecord(UpdateRecordRequest
                .newBuilder().setTableId(track.id()).setRecordId(id).putValues(track.col(column), valueOf(value, !integer))
                .build()), id, value);
            return new Write(writer, "track", start, again.end(), again.outcome(), id, value);
        }
        return w;
    }

    private static Value valueOf(String value, boolean integer) {
        return integer ? Value.newBuilder().setInteger(Long.parseLong(value)).build() : text(value);
    }

    private RecordServiceGrpc.RecordServiceBlockingStub stub(boolean withTableVersion, long linkVersion) {
        // as the gateway does once schema-service has the link: "answer once you have applied it"
        return withTableVersion ? Consistency.after(api.get(), Map.of(track.id(), linkVersion)) : api.get();
    }

    private Write write(String writer, String table, Runnable call, long id, String value) {
        long start = System.nanoTime();
        String outcome;
        try {
            call.run();
            outcome = "ok";
        } catch (StatusRuntimeException e) {
            var info = ApiException.infoOf(e);
            String message = info.getErrorsCount() > 0 ? info.getErrors(0).getMessage() : String.valueOf(e.getStatus().getDescription());
            boolean invalid = info.getCode().equals("validation_failed");
            outcome = invalid && message.contains("no record of the linked table") ? "refused"
                : (invalid ? "invalid: " : info.getCode() + ": ") + message;
        }
        return new Write(writer, table, start, System.nanoTime(), outcome, id, value);
    }

    private static Value text(String v) {
        return Value.newBuilder().setText(v).build();
    }

    // ---- what the database holds

    public String qualified(SchemaEvents.Table t) {
        return PhysicalNames.qualified(s.tenant(), t.id());
    }

    public String col(SchemaEvents.Table t, String name) {
        return quote(PhysicalNames.column(t.col(name)));
    }

    /** The link's phase in record-service's catalog, or null while it has no row. */
    public String phase() {
        return db.read(c -> {
            try (PreparedStatement q = c.prepareStatement(
                "SELECT phase FROM physical_links WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
                q.setString(1, s.tenant());
                q.setString(2, track.id());
                q.setString(3, track.col("Artist"));
                try (ResultSet rs = q.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
    }

    public long count(String sql) {
        return db.read(c -> {
            try (Statement q = c.createStatement(); ResultSet rs = q.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        });
    }

    /** Track's Artist values that match no artist (none may stay once linked). */
    public long dangling() {
        return count("SELECT count(*) FROM " + qualified(track) + " a WHERE a." + col(track, "Artist") + " IS NOT NULL AND NOT "
            + "EXISTS (SELECT 1 FROM " + qualified(artist) + " m WHERE m." + col(artist, "id") + " = a." + col(track, "Artist") + ")");
    }

    /** The Artist value of a track record as text (null when empty). */
    public String artistOf(long trackId) {
        return db.read(c -> {
            try (Statement q = c.createStatement(); ResultSet rs = q.executeQuery("SELECT " + col(track, "Artist") + "::text FROM "
                + qualified(track) + " WHERE " + col(track, "id") + " = " + trackId)) {
                return rs.next() ? rs.getString(1) : "<no record>";
            }
        });
    }

    private void sql(String sql) throws SQLException {
        // outside any transaction (VACUUM cannot run in one)
        try (Connection c = DriverManager.getConnection(jdbcUrl, user, password); Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
