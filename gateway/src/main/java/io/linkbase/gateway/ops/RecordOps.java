package io.linkbase.gateway.ops;

import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.json.Limits;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateRecordsRequest;
import io.linkbase.proto.v1.CreateRecordsResponse;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.Empty;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.ListRecordsRequest;
import io.linkbase.proto.v1.ListRecordsResponse;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UpdateRecordRequest;
import jakarta.inject.Singleton;

/**
 * Records, for both faces of the API. record-service is told the version of the record's table
 * (read-your-writes after a schema change), so every operation first reads the table; the HTTP
 * face, which needs the table to type a body's values, passes the one it read.
 */
@Singleton
public class RecordOps {
    private final TableOps tables;
    private final Backends backends;

    public RecordOps(TableOps tables, Backends backends) {
        this.tables = tables;
        this.backends = backends;
    }

    public Table table(Principal p, String tableId) {
        return tables.get(p, tableId);
    }

    public ListRecordsResponse list(Principal p, ListRecordsRequest request) {
        return backends.records(p.tenant(), table(p, request.getTableId())).listRecords(request);
    }

    public Record get(Principal p, GetRecordRequest request) {
        return backends.records(p.tenant(), table(p, request.getTableId())).getRecord(request);
    }

    public Record create(Principal p, CreateRecordRequest request) {
        return create(p, table(p, request.getTableId()), request);
    }

    public Record create(Principal p, Table table, CreateRecordRequest request) {
        Limits.values(request.getValuesMap(), "values.");
        return backends.records(p.tenant(), table).createRecord(request);
    }

    public CreateRecordsResponse createBatch(Principal p, CreateRecordsRequest request) {
        Limits.batch(request.getRecordsCount()); // before anything else is asked
        return createBatch(p, table(p, request.getTableId()), request);
    }

    /** With the table read (the HTTP face checked the count before converting the body's values). */
    public CreateRecordsResponse createBatch(Principal p, Table table, CreateRecordsRequest request) {
        Limits.batch(request.getRecordsCount());
        for (int i = 0; i < request.getRecordsCount(); i++) {
            Limits.values(request.getRecords(i).getValuesMap(), "records[" + i + "].values.");
        }
        return backends.records(p.tenant(), table).createRecords(request);
    }

    public Record update(Principal p, UpdateRecordRequest request) {
        return update(p, table(p, request.getTableId()), request);
    }

    public Record update(Principal p, Table table, UpdateRecordRequest request) {
        Limits.values(request.getValuesMap(), "values.");
        return backends.records(p.tenant(), table).updateRecord(request);
    }

    public Empty delete(Principal p, DeleteRecordRequest request) {
        return backends.records(p.tenant(), table(p, request.getTableId())).deleteRecord(request);
    }
}
