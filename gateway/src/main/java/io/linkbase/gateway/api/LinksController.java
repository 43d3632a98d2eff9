package io.linkbase.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Op;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.json.BodyReader;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.ops.LinkOps;
import io.linkbase.proto.v1.ClearedSample;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidateTable;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;

import java.util.ArrayList;
import java.util.List;

/** Link candidates, preview, link, unlink (API.md "Links"). */
@Controller("/api/v1/tables/{tableId}/columns/{columnId}")
@ExecuteOn(TaskExecutors.BLOCKING)
class LinksController {
    private final LinkOps links;

    public LinksController(LinkOps links) {
        this.links = links;
    }

    @Get("/link-candidates")
    @Op(Operation.LINK_CANDIDATES)
    public HttpResponse<Candidates> candidates(Principal p, @PathVariable String tableId, @PathVariable String columnId) {
        Responses.ids(tableId, columnId);
        List<CandidateTable> tables = new ArrayList<>();
        for (LinkCandidateTable t : links.candidates(p,
            LinkCandidatesRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build()).getTablesList()) {
            tables.add(new CandidateTable(t.getTableId(), t.getName(), t.getDefaultColumnId(), t.getColumnsList().stream()
                .map(c -> new CandidateColumn(c.getColumnId(), c.getName(), Json.typeName(c.getType()), c.getPrimaryKey(),
                    c.getUnique())).toList()));
        }
        return HttpResponse.ok(new Candidates(tables)).contentType(MediaType.APPLICATION_JSON_TYPE);
    }

    /** GET …/link-candidates: the tables the column can link to, each with the columns it can link by. */
    @Serdeable
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record Candidates(List<CandidateTable> tables) {
    }

    @Serdeable
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record CandidateTable(String tableId, String name, String defaultColumnId, List<CandidateColumn> columns) {
    }

    @Serdeable
    @JsonInclude(JsonInclude.Include.ALWAYS)
    record CandidateColumn(String columnId, String name, String type, boolean primaryKey, boolean unique) {
    }

    @Post("/link/preview")
    @Op(Operation.PREVIEW_LINK)
    public HttpResponse<String> preview(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                        @Nullable @Body String body) {
        Responses.ids(tableId, columnId);
        Bodies.PreviewLink in = BodyReader.read(body, Bodies.PreviewLink.class);
        LinkPreviewRequest.Builder request = LinkPreviewRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setTargetTableId(in.targetTableId());
        if (in.targetColumnId() != null) {
            request.setTargetColumnId(in.targetColumnId());
        }
        LinkPreview preview = links.preview(p, request.build());
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("keptCount", preview.getKeptCount());
        out.put("clearedCount", preview.getClearedCount());
        ArrayNode samples = out.putArray("clearedSamples");
        for (ClearedSample s : preview.getClearedSamplesList()) {
            samples.addObject().put("recordId", s.getRecordId()).set("value", Json.value(s.getValue()));
        }
        return Responses.ok(out);
    }

    @Put("/link")
    @Op(Operation.LINK_COLUMN)
    public HttpResponse<String> link(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                     @Nullable @Header("If-Match") String ifMatch, @Nullable @QueryValue String wait,
                                     @Nullable @Body String body) {
        Responses.ids(tableId, columnId);
        int waitSeconds = Responses.intParam(wait, "wait", 0, Limits.MAX_WAIT_SECONDS, 0);
        Bodies.LinkColumn in = BodyReader.read(body, Bodies.LinkColumn.class);
        LinkColumnRequest.Builder request = LinkColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setTargetTableId(in.targetTableId()).setOnDelete(Json.onDelete(in.onDelete(), "onDelete"));
        if (in.targetColumnId() != null) {
            request.setTargetColumnId(in.targetColumnId());
        }
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        Link link = links.link(p, request.build(), waitSeconds);
        return Responses.json(link.getState() == LinkState.ACTIVE && waitSeconds > 0 ? HttpStatus.OK : HttpStatus.ACCEPTED,
            Json.link(link));
    }

    @Post("/link/undo")
    @Op(Operation.UNDO_LINK)
    public HttpResponse<String> undo(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                     @Nullable @Header("If-Match") String ifMatch) {
        Responses.ids(tableId, columnId);
        Table t = links.undo(p, tableId, columnId, Responses.expectedVersion(ifMatch));
        return Responses.ok(Json.table(t)).header("ETag", "\"" + t.getVersion() + "\"");
    }

    @Get("/link")
    @Op(Operation.GET_LINK)
    public HttpResponse<String> get(Principal p, @PathVariable String tableId, @PathVariable String columnId) {
        Responses.ids(tableId, columnId);
        return Responses.ok(Json.link(links.get(p,
            GetLinkRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build())));
    }

    @Delete("/link")
    @Op(Operation.UNLINK_COLUMN)
    public HttpResponse<String> unlink(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                       @Nullable @Header("If-Match") String ifMatch, @Nullable @QueryValue String wait) {
        Responses.ids(tableId, columnId);
        int waitSeconds = Responses.intParam(wait, "wait", 0, Limits.MAX_WAIT_SECONDS, 0);
        UnlinkColumnRequest.Builder request = UnlinkColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId);
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        links.unlink(p, request.build());
        // The link is gone from the table as soon as ColumnUnlinked is stored; with ?wait the
        // caller is told so with a 200.
        return HttpResponse.status(waitSeconds > 0 ? HttpStatus.OK : HttpStatus.ACCEPTED);
    }

}
