package io.linkbase.gateway.ops;

import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Limits;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.Empty;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkCandidatesResponse;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UndoLinkRequest;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

/** Links of a column (candidates, preview, link, unlink, undo), for both faces of the API. */
@Singleton
public class LinkOps {
    private final TableOps tables;
    private final Backends backends;

    public LinkOps(TableOps tables, Backends backends) {
        this.tables = tables;
        this.backends = backends;
    }

    public LinkCandidatesResponse candidates(Principal p, LinkCandidatesRequest request) {
        return backends.schema(p.tenant()).getLinkCandidates(request);
    }

    public LinkPreview preview(Principal p, LinkPreviewRequest request) {
        return backends.records(p.tenant(), tables.get(p, request.getTableId()), tables.get(p, request.getTargetTableId()))
            .previewLink(request);
    }

    /**
     * Links the column; with {@code waitSeconds} (0 to {@link Limits#MAX_WAIT_SECONDS}, checked
     * by each face where it reads it) waits for the link to become ACTIVE.
     */
    public Link link(Principal p, LinkColumnRequest request, int waitSeconds) {
        Link link = backends.schema(p.tenant()).linkColumn(request);
        if (waitSeconds > 0 && link.getState() != LinkState.ACTIVE) {
            link = awaitActive(p, request.getTableId(), request.getColumnId(), waitSeconds);
        }
        return link;
    }

    /**
     * Waits for the link to become ACTIVE, asking schema-service with a growing interval (20 ms
     * doubling to 250 ms) so a waiting client never turns into a tight polling loop.
     */
    private Link awaitActive(Principal p, String tableId, String columnId, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long pause = 20;
        GetLinkRequest get = GetLinkRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build();
        Link link = get(p, get);
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
            link = get(p, get);
        }
        return link;
    }

    public Link get(Principal p, GetLinkRequest request) {
        return backends.schema(p.tenant()).getLink(request);
    }

    public Empty unlink(Principal p, UnlinkColumnRequest request) {
        return backends.schema(p.tenant()).unlinkColumn(request);
    }

    /**
     * Undo of a link: record-service says whether the column can be restored faithfully (a
     * conflict otherwise), then schema-service records ColumnLinkUndone, expecting the table
     * version that was checked (or the caller's If-Match), so no schema change slips in between.
     */
    public Table undo(Principal p, String tableId, String columnId, Long expectedVersion) {
        Table table = tables.get(p, tableId);
        if (expectedVersion != null && expectedVersion != table.getVersion()) {
            throw new Problem(HttpStatus.CONFLICT, "version_conflict",
                "table " + tableId + " is at version " + table.getVersion() + ", not " + expectedVersion);
        }
        Column column = Columns.find(table, columnId).orElseThrow(() -> Problem.notFound("column " + columnId));
        if (!column.hasLink()) {
            throw Problem.notFound("link of column " + columnId);
        }
        UndoLinkRequest request = UndoLinkRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setExpectedVersion(table.getVersion()).build();
        backends.records(p.tenant(), table).checkLinkUndo(request);
        return backends.schema(p.tenant()).undoLink(request);
    }
}
