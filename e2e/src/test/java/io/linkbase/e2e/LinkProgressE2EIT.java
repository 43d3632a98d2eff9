package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.LinkbaseGrpc;
import org.junit.jupiter.api.Test;

import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.PostgresServer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A link's progress as a client sees it (issue 14, point 2): {@code GET …/link} polled during a
 * link of 5,000 rows to a 10,000-record target (two bulk batches) shows the state moving RECONCILING → INDEXING →
 * ACTIVE with {@code progress} (rows reconciled, documents indexed, of their totals) never going
 * back, and none once ACTIVE; the public gRPC API gives the same Link. {@code done} moves during
 * RECONCILING: the reconciliation runs in steps of {@link Stack#RECONCILE_STEP_ROWS} rows, and a
 * writer's transaction holding one row of the second step (a cleared near miss) keeps it there
 * until a client has seen the first step counted, so that moment is observed, not raced.
 */
class LinkProgressE2EIT {
    private static final int TARGETS = 10_000;
    private static final int LINKING = 5_000;
    /** The track whose row is held: a near miss (cleared) in the reconciliation's second step. */
    private static final int HELD_ID = Stack.RECONCILE_STEP_ROWS + 1_001;
    /** Passes over the linking table when the column changes type (text → integer): 4 (ReconcileProgress). */
    private static final int PASSES = 4;

    @Test
    void progressMovesForwardToActiveOverHttpAndGrpc() throws Exception {
        String tenant = "progress-" + Long.toString(System.nanoTime(), 36);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        String token = Stack.token(tenant, "owner");
        Api owner = new Api(token);
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"artist\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"track\",\"columns\":[{\"name\":\"Artist\"}]}"));
        String artistId = artist.get("id").asText();
        String trackId = track.get("id").asText();
        String name = columnId(artist, "Name");
        String artistColumn = columnId(track, "Artist");
        AtomicLong retries = new AtomicLong();
        owner.importRecords(artistId, TARGETS, i -> "{\"" + name + "\":\"artist " + i + "\"}", retries);
        // Track i names artist i + 1 (ids start at 1); every 10th a near miss ("0" + id) that is cleared.
        owner.importRecords(trackId, LINKING,
            i -> "{\"" + artistColumn + "\":\"" + (i % 10 == 0 ? "0" : "") + (i + 1) + "\"}", retries);

        assertThat((HELD_ID - 1) % 10).as("the held row is a near miss").isZero();
        List<LinkWatch.Sample> samples = new ArrayList<>();
        long start = System.nanoTime();
        try (Connection writer = holdRow(tenant, trackId, HELD_ID)) {
            Api.Response put = owner.put("/api/v1/tables/" + trackId + "/columns/" + artistColumn + "/link",
                "{\"targetTableId\":\"" + artistId + "\"}");
            assertThat(put.status()).as(put.toString()).isEqualTo(202);
            assertThat(put.body().path("progress").path("phase").asText()).isEqualTo(put.body().path("state").asText());
            assertThat(put.body().path("progress").path("done").asLong()).isZero();
            // The first step's rows are counted while the second waits for the held row.
            samples.addAll(LinkWatch.until(owner, trackId, artistColumn, start, Duration.ofMillis(50), Duration.ofMinutes(5),
                s -> s.state().equals("RECONCILING") && s.done() > 0));
            writer.rollback();
        }
        LinkWatch.Sample moved = samples.get(samples.size() - 1);
        assertThat(moved.total()).as(moved.toString()).isEqualTo((long) LINKING * PASSES);
        assertThat(moved.done()).as(moved.toString()).isEqualTo(Stack.RECONCILE_STEP_ROWS);

        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", Stack.gatewayGrpcPort()).usePlaintext().build();
        try {
            Metadata md = new Metadata();
            md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
            LinkbaseGrpc.LinkbaseBlockingStub grpc = LinkbaseGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
            GetLinkRequest get = GetLinkRequest.newBuilder().setTableId(trackId).setColumnId(artistColumn).build();
            Link during = grpc.withDeadlineAfter(10, TimeUnit.SECONDS).getLink(get);
            if (during.getState() != LinkState.ACTIVE) {
                assertThat(during.hasProgress()).as(during.toString()).isTrue();
                assertThat(during.getProgress().getPhase()).isEqualTo(during.getState());
            }

            samples.addAll(LinkWatch.untilActive(owner, trackId, artistColumn, start,
                Duration.ofMillis(50), Duration.ofMinutes(5))); // a give-up on a starved machine, not a timing
            samples.forEach(s -> System.out.println("link progress: " + s));
            LinkWatch.assertMonotonic(samples);
            // The services' reports arrived while the work ran: the totals are the real ones.
            assertThat(samples).as("a sample with a reported total")
                .anyMatch(s -> s.state().equals("INDEXING") && s.total() == TARGETS);

            Link active = grpc.withDeadlineAfter(10, TimeUnit.SECONDS).getLink(get);
            assertThat(active.getState()).isEqualTo(LinkState.ACTIVE);
            assertThat(active.hasProgress()).isFalse();
            assertThat(active.getKeptCount()).isEqualTo(LINKING - LINKING / 10);
            assertThat(active.getClearedCount()).isEqualTo(LINKING / 10);
        } finally {
            channel.shutdownNow();
        }
        JsonNode link = ok(owner.get("/api/v1/tables/" + trackId + "/columns/" + artistColumn + "/link"));
        assertThat(link.has("progress")).isFalse();
    }

    /**
     * A writer's open transaction holding one record of the table (as a slow write would), in
     * record-service's database; closing the connection lets it go.
     */
    private static Connection holdRow(String tenant, String tableId, long recordId) throws SQLException {
        String table = Stack.query(LinkbaseServices.RECORD, "SELECT quote_ident(t.schema_name) || '.' || quote_ident(t.table_name) "
            + "|| ' ' || quote_ident(c.column_name) FROM physical_tables t JOIN physical_columns c ON c.tenant_id = t.tenant_id "
            + "AND c.table_id = t.table_id AND c.primary_key WHERE t.tenant_id = ? AND t.table_id = ?", tenant, tableId).get(0);
        String[] parts = table.split(" ");
        PostgresServer pg = Stack.postgres();
        Connection c = DriverManager.getConnection(pg.jdbcUrl(Stack.services().database(LinkbaseServices.RECORD)), pg.user(),
            pg.password());
        try {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT 1 FROM " + parts[0] + " WHERE " + parts[1] + " = " + recordId + " FOR UPDATE")) {
                assertThat(rs.next()).as("record " + recordId).isTrue();
            }
            return c;
        } catch (SQLException | RuntimeException | Error e) {
            c.close();
            throw e;
        }
    }
}
