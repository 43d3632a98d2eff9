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

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * A link's progress as a client sees it (issue 14, point 2): {@code GET …/link} polled during a
 * link of 1,000 rows to a 10,000-record target (two bulk batches) shows the state moving RECONCILING → INDEXING →
 * ACTIVE with {@code progress} (rows reconciled, documents indexed, of their totals) never going
 * back, and none once ACTIVE; the public gRPC API gives the same Link.
 */
class LinkProgressE2EIT {
    private static final int TARGETS = 10_000;
    private static final int LINKING = 1_000;

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

        long start = System.nanoTime();
        Api.Response put = owner.put("/api/v1/tables/" + trackId + "/columns/" + artistColumn + "/link",
            "{\"targetTableId\":\"" + artistId + "\"}");
        assertThat(put.status()).as(put.toString()).isEqualTo(202);
        assertThat(put.body().path("progress").path("phase").asText()).isEqualTo(put.body().path("state").asText());

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

            List<LinkWatch.Sample> samples = LinkWatch.untilActive(owner, trackId, artistColumn, start,
                Duration.ofMillis(50), Duration.ofMinutes(5)); // a give-up on a starved machine, not a timing
            samples.forEach(s -> System.out.println("link progress: " + s));
            LinkWatch.assertMonotonic(samples);
            // The services' reports arrived while the work ran: the totals are the real ones.
            assertThat(samples).as("a sample with a reported total")
                .anyMatch(s -> s.state().equals("INDEXING") && s.total() == TARGETS
                    || s.state().equals("RECONCILING") && s.total() == LINKING);

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
}
