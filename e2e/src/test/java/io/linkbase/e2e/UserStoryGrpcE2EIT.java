package io.linkbase.e2e;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateSuggestedRecordRequest;
import io.linkbase.proto.v1.CreateSuggestedRecordResponse;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.LinkbaseGrpc;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.linkbase.proto.v1.Value;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The same story through the public gRPC API, streaming autocomplete included. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserStoryGrpcE2EIT {
    private ManagedChannel channel;
    private String tenant;

    @BeforeAll
    void connect() {
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", Stack.gatewayGrpcPort()).usePlaintext().build();
        tenant = "grpc-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(stub(Stack.adminToken()).provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(tenant).build())
            .getCreated()).isTrue();
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void linkAndFillAColumnThroughGrpc() throws Exception {
        LinkbaseGrpc.LinkbaseBlockingStub api = stub(Stack.token(tenant, "owner"));
        Table artist = api.createTable(CreateTableRequest.newBuilder().setName("artist")
            .addColumns(NewColumn.newBuilder().setName("Name")).build());
        Table track = api.createTable(CreateTableRequest.newBuilder().setName("track").build());
        Column col = api.addColumn(AddColumnRequest.newBuilder().setTableId(track.getId()).setColumn(NewColumn.getDefaultInstance()).build());
        assertThat(col.getType()).isEqualTo(ColumnType.TEXT);
        String name = artist.getColumns(1).getId();
        Record beyonce = api.createRecord(CreateRecordRequest.newBuilder().setTableId(artist.getId())
            .putValues(name, Value.newBuilder().setText("Beyoncé").build()).build());
        api.createRecord(CreateRecordRequest.newBuilder().setTableId(artist.getId())
            .putValues(name, Value.newBuilder().setText("Björk").build()).build());
        Record kept = api.createRecord(CreateRecordRequest.newBuilder().setTableId(track.getId())
            .putValues(col.getId(), Value.newBuilder().setText(Long.toString(beyonce.getId())).build()).build());
        api.createRecord(CreateRecordRequest.newBuilder().setTableId(track.getId())
            .putValues(col.getId(), Value.newBuilder().setText("0" + beyonce.getId()).build()).build());

        assertThat(api.getLinkCandidates(LinkCandidatesRequest.newBuilder().setTableId(track.getId()).setColumnId(col.getId()).build())
            .getTablesList()).extracting(t -> t.getDefaultColumnId()).contains(artist.getPrimaryKeyColumnId());
        LinkPreview preview = api.previewLink(LinkPreviewRequest.newBuilder().setTableId(track.getId()).setColumnId(col.getId())
            .setTargetTableId(artist.getId()).build());
        assertThat(preview.getKeptCount()).isEqualTo(1);
        assertThat(preview.getClearedCount()).isEqualTo(1);

        Link link = api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(col.getId())
            .setTargetTableId(artist.getId()).setWaitSeconds(30).build());
        assertThat(link.getState()).isEqualTo(LinkState.ACTIVE);
        assertThat(api.getRecord(GetRecordRequest.newBuilder().setTableId(track.getId()).setRecordId(kept.getId()).build())
            .getValuesMap().get(col.getId()).getInteger()).isEqualTo(beyonce.getId());

        SuggestResponse suggestions = api.suggest(SuggestRequest.newBuilder().setTableId(track.getId())
            .setColumnId(col.getId()).setQ("BEYON").build());
        assertThat(suggestions.getSuggestions(0).getSummary()).isEqualTo("Beyoncé");
        assertThat(suggestions.getSuggestions(0).getValue().getInteger()).isEqualTo(beyonce.getId());

        // Streaming: a keystroke each; the last answer is for the last query typed.
        List<SuggestResponse> answers = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        Metadata md = auth(Stack.token(tenant, "viewer"));
        StreamObserver<SuggestRequest> keys = LinkbaseGrpc.newStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .suggestStream(new StreamObserver<>() {
                public void onNext(SuggestResponse value) {
                    answers.add(value);
                }

                public void onError(Throwable t) {
                    done.countDown();
                }

                public void onCompleted() {
                    done.countDown();
                }
            });
        for (String q : List.of("b", "bj", "bjo", "bjor")) {
            keys.onNext(SuggestRequest.newBuilder().setTableId(track.getId()).setColumnId(col.getId()).setQ(q).build());
        }
        keys.onCompleted();
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(answers).isNotEmpty();
        SuggestResponse last = answers.get(answers.size() - 1);
        assertThat(last.getQ()).isEqualTo("bjor");
        assertThat(last.getSuggestionsList()).extracting(s -> s.getSummary()).containsExactly("Björk");

        CreateSuggestedRecordResponse zaz = api.createSuggestedRecord(CreateSuggestedRecordRequest.newBuilder()
            .setTableId(track.getId()).setColumnId(col.getId()).setText("Zaz").build());
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
            assertThat(api.suggest(SuggestRequest.newBuilder().setTableId(track.getId()).setColumnId(col.getId()).setQ("zaz").build())
                .getSuggestionsList()).extracting(s -> s.getRecordId()).containsExactly(zaz.getRecordId()));

        api.unlinkColumn(UnlinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(col.getId()).build());
        Column after = api.getTable(GetTableRequest.newBuilder().setTableId(track.getId()).build()).getColumnsList().stream()
            .filter(c -> c.getId().equals(col.getId())).findFirst().orElseThrow();
        assertThat(after.hasLink()).isFalse();
        assertThat(after.getType()).isEqualTo(ColumnType.INTEGER);
    }

    @Test
    void theTenantComesFromTheTokenAndRolesAreEnforced() {
        assertRefused(() -> stub(null).listTables(ListTablesRequest.getDefaultInstance()), Status.Code.UNAUTHENTICATED, "unauthorized");
        assertRefused(() -> stub(Stack.token(tenant, "viewer")).createTable(CreateTableRequest.newBuilder().setName("x").build()),
            Status.Code.PERMISSION_DENIED, "forbidden");
        Table mine = stub(Stack.token(tenant, "owner")).createTable(CreateTableRequest.newBuilder().setName("mine").build());
        String other = "grpc-other-" + UUID.randomUUID().toString().substring(0, 6);
        stub(Stack.adminToken()).provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(other).build());
        // A caller cannot pick another tenant with metadata: only the token's tenant counts.
        Metadata md = auth(Stack.token(other, "owner"));
        md.put(Metadata.Key.of("x-linkbase-tenant", Metadata.ASCII_STRING_MARSHALLER), tenant);
        LinkbaseGrpc.LinkbaseBlockingStub sneaky = LinkbaseGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
        assertRefused(() -> sneaky.getTable(GetTableRequest.newBuilder().setTableId(mine.getId()).build()),
            Status.Code.NOT_FOUND, "not_found");
        assertThat(sneaky.listTables(ListTablesRequest.getDefaultInstance()).getTablesList()).isEmpty();
    }

    private LinkbaseGrpc.LinkbaseBlockingStub stub(String token) {
        LinkbaseGrpc.LinkbaseBlockingStub s = LinkbaseGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS);
        return token == null ? s : s.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth(token)));
    }

    private static Metadata auth(String token) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return md;
    }

    private static void assertRefused(Runnable call, Status.Code status, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(e.getStatus().getCode()).isEqualTo(status);
            assertThat(ApiException.infoOf(e).getCode()).isEqualTo(code);
        });
    }
}
