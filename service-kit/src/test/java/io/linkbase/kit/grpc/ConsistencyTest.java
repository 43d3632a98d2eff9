package io.linkbase.kit.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.GetTableRequest;
import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** Read-your-writes: the table versions a caller sends are the ones the service waits for. */
class ConsistencyTest {
    @Test
    void theVersionsAStubSendsAreTheVersionsTheServiceSees() {
        Map<String, Long> versions = new LinkedHashMap<>();
        versions.put("7f1c0c3e-2b1a-4c55-9d1e-0a9d3c1b2e4f", 3L);
        versions.put("0b5e9d3a-1111-4c55-9d1e-0a9d3c1b2e4f", 12L);
        Metadata sent = sentHeaders(versions);

        AtomicReference<Map<String, Long>> seen = new AtomicReference<>();
        AtomicBoolean started = new AtomicBoolean();
        FakeServerCall<String, String> call = new FakeServerCall<>();
        new Consistency().interceptCall(call, sent, FakeServerCall.handler(started, () -> seen.set(Consistency.required())));
        assertThat(started).isTrue();
        assertThat(call.closedWith).isNull();
        assertThat(seen.get()).isEqualTo(versions);
        assertThat(Consistency.required()).isEmpty(); // only inside the call
    }

    @Test
    void noVersionsMeansNoHeaderAndNothingToWaitFor() {
        assertThat(sentHeaders(Map.of()).get(Consistency.METADATA_KEY)).isNull();
        AtomicReference<Map<String, Long>> seen = new AtomicReference<>();
        new Consistency().interceptCall(new FakeServerCall<String, String>(), new Metadata(),
            FakeServerCall.handler(new AtomicBoolean(), () -> seen.set(Consistency.required())));
        assertThat(seen.get()).isEmpty();
    }

    @Test
    void aMalformedHeaderIsRefusedBeforeTheService() {
        for (String raw : new String[] {"t1", "t1=", "t1=three", "t1=3,t2"}) {
            Metadata md = new Metadata();
            md.put(Consistency.METADATA_KEY, raw);
            AtomicBoolean started = new AtomicBoolean();
            FakeServerCall<String, String> call = new FakeServerCall<>();
            new Consistency().interceptCall(call, md, FakeServerCall.handler(started, () -> { }));
            assertThat(started).as(raw).isFalse();
            assertThat(call.closedWith.getCode()).as(raw).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(call.closedTrailers.get(ApiException.ERROR_INFO_KEY).getCode()).isEqualTo("validation_failed");
        }
    }

    /** The headers a call on {@code Consistency.after(stub, versions)} goes out with. */
    private static Metadata sentHeaders(Map<String, Long> versions) {
        AtomicReference<Metadata> captured = new AtomicReference<>(new Metadata());
        Channel channel = new Channel() {
            @Override
            public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> method, CallOptions options) {
                return new ClientCall<>() {
                    @Override
                    public void start(Listener<R> listener, Metadata headers) {
                        captured.set(headers);
                    }

                    @Override
                    public void request(int n) {
                    }

                    @Override
                    public void cancel(String message, Throwable cause) {
                    }

                    @Override
                    public void halfClose() {
                    }

                    @Override
                    public void sendMessage(Q message) {
                    }
                };
            }

            @Override
            public String authority() {
                return "test";
            }
        };
        Consistency.after(SchemaServiceGrpc.newFutureStub(channel), versions)
            .getTable(GetTableRequest.getDefaultInstance());
        return captured.get();
    }
}
