package io.linkbase.gateway.flows;

import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateSuggestedRecordResponse;
import io.linkbase.gateway.json.Values;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UndoLinkRequest;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.Value;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

/** The gateway's own steps that span services, shared by the HTTP and the public gRPC API. */
@Singleton
public class LinkFlows {
    public static final int MAX_WAIT_SECONDS = 30;

    private final Backends backends;

    public LinkFlows(Backends backends) {
        this.backends = backends;
    }

    /**
     * Waits for the link to become ACTIVE, asking schema-service with a growing interval (20 ms
     * doubling to 250 ms) so a waiting client never turns into a tight polling loop.
     */
    public Link awaitActive(String tenant, String tableId, String columnId, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long pause = 20;
        Link link = getLink(tenant, tableId, columnId);
        while (link.getState() != LinkState.ACTIVE) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return link;
            }
            try {
                Thread.sleep(Math.min(pause, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return link;
            }
            pause = Math.min(pause * 2, 250);
            link = getLink(tenant, tableId, columnId);
        }
        return link;
    }

    public Link getLink(String tenant, String tableId, String columnId) {
        return backends.schema(tenant).getLink(GetLinkRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build());
    }

    /**
     * Undo of a link: record-service says whether the column can be restored faithfully (a
     * conflict otherwise), then schema-service records ColumnLinkUndone, expecting the table
     * version that was checked (or the caller's If-Match), so no schema change slips in between.
     */
    public Table undoLink(String tenant, String tableId, String columnId, Long expectedVersion) {
        Table table = backends.schema(tenant).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
        if (expectedVersion != null && expectedVersion != table.getVersion()) {
            throw new Problem(HttpStatus.CONFLICT, "version_conflict",
                "table " + tableId + " is at version " + table.getVersion() + ", not " + expectedVersion);
        }
        Column column = table.getColumnsList().stream().filter(c -> c.getId().equals(columnId)).findFirst()
            .orElseThrow(() -> Problem.notFound("column " + columnId));
        if (!column.hasLink()) {
            throw Problem.notFound("link of column " + columnId);
        }
        UndoLinkRequest request = UndoLinkRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setExpectedVersion(table.getVersion()).build();
        backends.records(tenant, table).checkLinkUndo(request);
        return backends.schema(tenant).undoLink(request);
    }

    /**
     * "Add a new record" from the picker: creates a record in the linked table with its display
     * column set to {@code text} (and, for a link to a unique non-key column, that column too,
     * converted to its type), and returns the value to store in the linked column. With
     * {@code recordId} (a record of {@code tableId}) it also stores that value in the record's
     * cell and returns the updated record, so a client needs one request.
     */
    public CreateSuggestedRecordResponse createSuggestedRecord(String tenant, String tableId, String columnId, String text,
                                                               Long recordId) {
        if (text == null || text.isBlank()) {
            throw Problem.invalid("text", "must not be blank");
        }
        Table table = backends.schema(tenant).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
        Column column = table.getColumnsList().stream().filter(c -> c.getId().equals(columnId)).findFirst()
            .orElseThrow(() -> Problem.notFound("column " + columnId));
        if (!column.hasLink()) {
            throw Problem.invalid("columnId", "the column is not linked to another table");
        }
        Link link = column.getLink();
        Table target = backends.schema(tenant).getTable(GetTableRequest.newBuilder().setTableId(link.getTargetTableId()).build());
        String display = target.getDisplayColumnId();
        Column displayColumn = target.getColumnsList().stream().filter(c -> c.getId().equals(display)).findFirst()
            .orElseThrow(() -> Problem.notFound("display column"));
        boolean byKey = link.getTargetColumnId().equals(target.getPrimaryKeyColumnId());
        CreateRecordRequest.Builder create = CreateRecordRequest.newBuilder().setTableId(target.getId());
        if (!byKey) {
            Column targetColumn = target.getColumnsList().stream().filter(c -> c.getId().equals(link.getTargetColumnId()))
                .findFirst().orElseThrow(() -> Problem.notFound("target column"));
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
