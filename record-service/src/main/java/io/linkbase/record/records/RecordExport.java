package io.linkbase.record.records;

import io.linkbase.kit.db.Db;
import io.linkbase.proto.internal.v1.ExportedPage;
import io.linkbase.proto.internal.v1.ExportedRecord;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import jakarta.inject.Singleton;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.function.Consumer;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** A table's records exported in pages from one snapshot (search-service's rebuilds read them). */
@Singleton
class RecordExport {
    private final Db db;
    private final SqlErrors errors;

    RecordExport(Db db, SqlErrors errors) {
        this.db = db;
        this.errors = errors;
    }

    /** Records per exported page, and a page's size at most (well under gRPC's message limits). */
    static final int EXPORT_PAGE_RECORDS = 1_000;
    static final int EXPORT_PAGE_BYTES = 1024 * 1024;

    /**
     * Streams every record of the table from one REPEATABLE READ snapshot with a server-side
     * cursor, in pages, each record with the version its latest event carries; the first page
     * carries how many records the snapshot holds.
     */
    long export(String tenant, String tableId, Consumer<ExportedPage> sink) {
        return errors.mapped(() -> db.read(c -> {
            try (PreparedStatement iso = c.prepareStatement("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")) {
                iso.execute();
            }
            Catalog.Table t = Records.table(c, tenant, tableId);
            long total;
            try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM " + t.qualified());
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                total = rs.getLong(1); // same snapshot: exactly how many records follow
            }
            long n = 0;
            ExportedPage.Builder page = ExportedPage.newBuilder().setTotal(total);
            int bytes = 0;
            try (PreparedStatement s = c.prepareStatement("SELECT " + Rows.selectList(t, "a") + " FROM " + t.qualified()
                + " a ORDER BY a." + quote(t.primaryKey().physical()))) {
                s.setFetchSize(EXPORT_PAGE_RECORDS);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        Rows.Row row = Rows.read(rs, t, 1);
                        ExportedRecord r = ExportedRecord.newBuilder().setRecordId(row.id())
                            .setRecordVersion(row.version()).putAllValues(row.values()).build();
                        page.addRecords(r);
                        bytes += r.getSerializedSize();
                        n++;
                        if (page.getRecordsCount() == EXPORT_PAGE_RECORDS || bytes >= EXPORT_PAGE_BYTES) {
                            sink.accept(page.build());
                            page = ExportedPage.newBuilder();
                            bytes = 0;
                        }
                    }
                }
            }
            if (page.getRecordsCount() > 0 || n == 0) {
                sink.accept(page.build());
            }
            return n;
        }), tenant, tableId);
    }
}
