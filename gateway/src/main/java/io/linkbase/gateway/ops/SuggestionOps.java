package io.linkbase.gateway.ops;

import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.json.Values;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateSuggestedRecordResponse;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.Value;
import jakarta.inject.Singleton;

import java.util.concurrent.CompletableFuture;

/** The autocomplete of a linked column and "add a new record" from its picker, for both faces of the API. */
@Singleton
public class SuggestionOps {
    private final TableOps tables;
    private final Backends backends;

    public SuggestionOps(TableOps tables, Backends backends) {
        this.tables = tables;
        this.backends = backends;
    }

    /**
     * Once per keystroke: never blocks. The answer completes on search-service's transport
     * thread (failures are the call's StatusRuntimeException); a limit is thrown at once.
     */
    public CompletableFuture<SuggestResponse> suggest(Principal p, SuggestRequest request) {
        Limits.query(request.getQ());
        return Backends.completable(backends.searchFuture(p.tenant()).suggest(request));
    }

    /**
     * "Add a new record" from the picker: creates a record in the linked table with its display
     * column set to {@code text} (and, for a link to a unique non-key column, that column too,
     * converted to its type), and returns the value to store in the linked column. With
     * {@code recordId} (a record of {@code tableId}) it also stores that value in the record's
     * cell and returns the updated record, so a client needs one request.
     */
    public CreateSuggestedRecordResponse createRecord(Principal p, String tableId, String columnId, String text,
                                                      Long recordId) {
        if (text == null || text.isBlank()) {
            throw Problem.invalid("text", "must not be blank");
        }
        Limits.text(text, "text");
        String tenant = p.tenant();
        Table table = tables.get(p, tableId);
        Column column = Columns.find(table, columnId).orElseThrow(() -> Problem.notFound("column " + columnId));
        if (!column.hasLink()) {
            throw Problem.invalid("columnId", "the column is not linked to another table");
        }
        Link link = column.getLink();
        Table target = tables.get(p, link.getTargetTableId());
        String display = target.getDisplayColumnId();
        Column displayColumn = Columns.find(target, display).orElseThrow(() -> Problem.notFound("display column"));
        boolean byKey = link.getTargetColumnId().equals(target.getPrimaryKeyColumnId());
        CreateRecordRequest.Builder create = CreateRecordRequest.newBuilder().setTableId(target.getId());
        if (!byKey) {
            Column targetColumn = Columns.find(target, link.getTargetColumnId())
                .orElseThrow(() -> Problem.notFound("target column"));
            create.putValues(targetColumn.getId(), Values.fromText(text, targetColumn.getType(), "text"));
        }
        if (displayColumn.getType() == ColumnType.TEXT) {
            create.putValues(display, Value.newBuilder().setText(text).build());
        } else if (byKey) {
            throw Problem.invalid("text", "the linked table's display column is not a text column");
        }
        if (recordId != null) {
            // The cell's record must exist before anything is created for it.
            backends.records(tenant, table).getRecord(GetRecordRequest.newBuilder().setTableId(tableId)
                .setRecordId(recordId).build());
        }
        Record created = backends.records(tenant, target).createRecord(create.build());
        Value value = byKey ? Value.newBuilder().setInteger(created.getId()).build()
            : created.getValuesOrDefault(link.getTargetColumnId(), Value.getDefaultInstance());
        CreateSuggestedRecordResponse.Builder response = CreateSuggestedRecordResponse.newBuilder()
            .setRecordId(created.getId()).setValue(value).setSummary(text);
        if (recordId != null) {
            response.setRecord(backends.records(tenant, table, target).updateRecord(UpdateRecordRequest.newBuilder()
                .setTableId(tableId).setRecordId(recordId).putValues(columnId, value).build()));
        }
        return response.build();
    }
}
