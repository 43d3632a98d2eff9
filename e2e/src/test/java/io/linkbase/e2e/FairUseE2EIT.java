package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.v1.LinkbaseGrpc;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fair use through the public APIs: rate limits per user as well as per tenant, and the limits
 * and idle timeout of the public SuggestStream (docs/decisions.md, Gateway).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FairUseE2EIT {
    /** The gateway's defaults (application.yml). */
    private static final int STREAMS_PER_USER = 8;
    private static final int IDLE_SECONDS = Stack.GATEWAY_STREAM_IDLE_SECONDS;

    private ManagedChannel channel;
    private String tenant;
    private SuggestRequest query;

    @BeforeAll
    void setUp() {
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", Stack.gatewayGrpcPort()).usePlaintext().build();
        tenant = "fair-" + UUID.randomUUID().toString().substring(0, 8);
        created(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null));
        Api owner = new Api(Stack.token(tenant, "owner"));
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"Artist\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"Track\",\"columns\":[{\"name\":\"Artist\"}]}"));
        created(owner.post("/api/v1/tables/" + artist.get("id").asText() + "/records",
            "{\"values\":{\"" + columnId(artist, "Name") + "\":\"Nina Simone\"}}"));
        String trackId = track.get("id").asText();
        String column = columnId(track, "Artist");
        assertThat(owner.put("/api/v1/tables/" + trackId + "/columns/" + column + "/link?wait=30",
            "{\"targetTableId\":\"" + artist.get("id").asText() + "\"}").status()).isEqualTo(200);
        query = SuggestRequest.newBuilder().setTableId(trackId).setColumnId(column).setQ("nin").build();
    }

    @AfterAll
    void tearDown() {
        channel.shutdownNow();
    }

    @Test
    void aUserOverItsShareGets429WhileAnotherUserOfTheSameTenantGetsThrough() throws Exception {
        String small = Stack.SMALL_PLAN_TENANT; // 1 request/s, burst 5: each user gets half
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + small, null).status()).isIn(200, 201);
        Thread.sleep(Stack.SMALL_PLAN_BURST * 1000L + 500); // whatever ran before, the tenant's bucket is full again
        Api heavy = new Api(token(small, "heavy-" + UUID.randomUUID(), "viewer"));
        Api.Response limited = null;
        int passed = 0;
        for (int i = 0; i < Stack.SMALL_PLAN_BURST && limited == null; i++) {
            Api.Response r = heavy.get("/api/v1/tables");
            if (r.status() == 429) {
                limited = r;
            } else {
                assertThat(r.status()).as(r.toString()).isEqualTo(200);
                passed++;
            }
        }
        assertThat(limited).as("a 429 before the tenant's burst of 5 is used up").isNotNull();
        assertThat(passed).isLessThan(Stack.SMALL_PLAN_BURST);
        assertThat(limited.code()).isEqualTo("rate_limited");
        assertThat(limited.body().path("detail").asText()).contains("this user").contains("per-user limit");
        assertThat(Long.parseLong(limited.header("Retry-After"))).isPositive();

        // the same refusal on the public gRPC API
        String heavyToken = token(small, "heavy-grpc-" + UUID.randomUUID(), "viewer");
        StatusRuntimeException grpcLimited = null;
        for (int i = 0; i < Stack.SMALL_PLAN_BURST && grpcLimited == null; i++) {
            try {
                stub(heavyToken).listTables(ListTablesRequest.getDefaultInstance());
            } catch (StatusRuntimeException e) {
                grpcLimited = e;
            }
        }
        assertThat(grpcLimited).isNotNull();
        assertThat(grpcLimited.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(ApiException.infoOf(grpcLimited).getCode()).isEqualTo("rate_limited");
        assertThat(grpcLimited.getStatus().getDescription()).contains("this user");

        // another user of the same tenant still gets through
        Thread.sleep(1000);
        assertThat(new Api(token(small, "light-" + UUID.randomUUID(), "viewer")).get("/api/v1/tables").status())
            .isEqualTo(200);
    }

    @Test
    void openSuggestStreamsAreLimitedPerUserAndEveryEndGivesTheSlotBack() throws Exception {
        String busy = token(tenant, "busy-" + UUID.randomUUID(), "viewer");
        List<Probe> open = new ArrayList<>();
        for (int i = 0; i < STREAMS_PER_USER; i++) {
            Probe p = Probe.open(channel, busy);
            p.answered(query);
            open.add(p);
        }
        Probe refused = Probe.open(channel, busy);
        StatusRuntimeException over = refused.end.get(30, TimeUnit.SECONDS);
        assertThat(over).isNotNull();
        assertThat(over.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(ApiException.infoOf(over).getCode()).isEqualTo("limit_exceeded");
        assertThat(over.getStatus().getDescription()).contains("at most " + STREAMS_PER_USER + " per user");

        // another user of the tenant is not affected
        Probe other = Probe.open(channel, token(tenant, "other-" + UUID.randomUUID(), "viewer"));
        other.answered(query);
        other.requests.onCompleted();
        assertThat(other.end.get(30, TimeUnit.SECONDS)).isNull();

        // a cancelled stream and a completed one each give their slot back
        open.get(0).cancel();
        open.get(1).requests.onCompleted();
        assertThat(open.get(1).end.get(30, TimeUnit.SECONDS)).isNull();
        List<Probe> again = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100)).until(() -> {
                Probe p = Probe.open(channel, busy);
                p.requests.onNext(query);
                CompletableFuture.anyOf(p.firstAnswer, p.end).get(30, TimeUnit.SECONDS);
                if (p.firstAnswer.isDone()) {
                    again.add(p);
                    return true;
                }
                return false;
            });
        }
        open.subList(2, open.size()).forEach(Probe::cancel);
        again.forEach(Probe::cancel);
    }

    @Test
    void aStreamWithoutAQueryForTheIdleTimeoutIsClosed() throws Exception {
        Probe idle = Probe.open(channel, token(tenant, "idle-" + UUID.randomUUID(), "viewer"));
        long lastQuery = System.nanoTime();
        idle.answered(query);
        StatusRuntimeException closed = idle.end.get(IDLE_SECONDS + 30, TimeUnit.SECONDS);
        long quietSeconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - lastQuery);
        assertThat(closed).isNotNull();
        assertThat(closed.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(ApiException.infoOf(closed).getCode()).isEqualTo("idle_timeout");
        assertThat(quietSeconds).isBetween((long) IDLE_SECONDS - 1, (long) IDLE_SECONDS + 10);
    }

    // ------------------------------------------------------------------ helpers

    /** A client SuggestStream through the gateway that records its answers and how it ended (null: OK). */
    private static final class Probe implements StreamObserver<SuggestResponse> {
        final List<SuggestResponse> answers = new CopyOnWriteArrayList<>();
        final CompletableFuture<SuggestResponse> firstAnswer = new CompletableFuture<>();
        final CompletableFuture<StatusRuntimeException> end = new CompletableFuture<>();
        StreamObserver<SuggestRequest> requests;

        static Probe open(ManagedChannel channel, String token) {
            Probe p = new Probe();
            p.requests = LinkbaseGrpc.newStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth(token)))
                .suggestStream(p);
            return p;
        }

        void answered(SuggestRequest q) throws Exception {
            requests.onNext(q);
            CompletableFuture.anyOf(firstAnswer, end).get(30, TimeUnit.SECONDS);
            assertThat(firstAnswer).as("an answer, not the end " + end.getNow(null)).isDone();
        }

        void cancel() {
            ((ClientCallStreamObserver<SuggestRequest>) requests).cancel("the test is done with it", null);
        }

        @Override
        public void onNext(SuggestResponse value) {
            answers.add(value);
            firstAnswer.complete(value);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(t instanceof StatusRuntimeException e ? e : Status.fromThrowable(t).asRuntimeException());
        }

        @Override
        public void onCompleted() {
            end.complete(null);
        }
    }

    private LinkbaseGrpc.LinkbaseBlockingStub stub(String token) {
        return LinkbaseGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(auth(token)));
    }

    private static Metadata auth(String token) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return md;
    }

    /** An HS256 JWT for one user ({@code sub}) of a tenant. */
    static String token(String tenant, String subject, String role) {
        return io.linkbase.devstack.Tokens.hs256(Stack.JWT_SECRET, subject, tenant, List.of(role), java.time.Duration.ofHours(1));
    }
}
