package io.linkbase.search;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.ServerInterceptors;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.kit.grpc.TenantInterceptor;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.internal.v1.ExportRecordsRequest;
import io.linkbase.proto.internal.v1.ExportedPage;
import io.linkbase.proto.internal.v1.ExportedRecord;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.v1.Value;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;

/**
 * A stand-in for record-service's ExportRecords API (another service's API, not our
 * infrastructure): a real gRPC server streaming the records the test put in, per tenant and
 * table, in record id order, tenant taken from the call's metadata like record-service does.
 */
public final class ExportServer implements AutoCloseable {
    private final Map<String, ConcurrentSkipListMap<Long, ExportedRecord>> tables = new ConcurrentHashMap<>();
    /** Generated tables (the benchmark): tenant/table -> record n -> record. */
    private final Map<String, Generated> generated = new ConcurrentHashMap<>();
    private final Server server;

    /** Records per page, as record-service sends them. */
    private static final int PAGE = 1_000;

    public record Generated(long count, Function<Long, ExportedRecord> record) {
    }

    public ExportServer(int port) {
        RecordServiceGrpc.RecordServiceImplBase impl = new RecordServiceGrpc.RecordServiceImplBase() {
            @Override
            public void exportRecords(ExportRecordsRequest request, StreamObserver<ExportedPage> observer) {
                String key = Tenants.current() + "/" + request.getTableId();
                Generated g = generated.get(key);
                ServerCallStreamObserver<ExportedPage> out = (ServerCallStreamObserver<ExportedPage>) observer;
                List<ExportedRecord> stored = g != null ? List.of()
                    : new ArrayList<>(tables.getOrDefault(key, new ConcurrentSkipListMap<>()).values());
                long total = g != null ? g.count() : stored.size();
                ExportedPage.Builder page = ExportedPage.newBuilder().setTotal(total);
                for (long i = 1; i <= total; i++) {
                    page.addRecords(g != null ? g.record().apply(i) : stored.get((int) i - 1));
                    if (page.getRecordsCount() == PAGE || i == total) {
                        while (!out.isReady() && !out.isCancelled()) { // respect flow control: never buffer a whole table
                            LockSupport.parkNanos(200_000);
                        }
                        observer.onNext(page.build());
                        page = ExportedPage.newBuilder();
                    }
                }
                if (total == 0) {
                    observer.onNext(page.build());
                }
                observer.onCompleted();
            }
        };
        try {
            server = ServerBuilder.forPort(port)
                .addService(ServerInterceptors.intercept(impl, new TenantInterceptor(
                    new ServiceCredentials(ServiceWiring.SERVICE_SECRET, "record-service"))))
                .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public void put(String tenant, String table, long id, long version, Map<String, Value> values) {
        tables.computeIfAbsent(tenant + "/" + table, k -> new ConcurrentSkipListMap<>())
            .put(id, ExportedRecord.newBuilder().setRecordId(id).setRecordVersion(version).putAllValues(values).build());
    }

    public void remove(String tenant, String table, long id) {
        tables.getOrDefault(tenant + "/" + table, new ConcurrentSkipListMap<>()).remove(id);
    }

    public List<ExportedRecord> records(String tenant, String table) {
        return new ArrayList<>(tables.getOrDefault(tenant + "/" + table, new ConcurrentSkipListMap<>()).values());
    }

    public void generate(String tenant, String table, Generated g) {
        generated.put(tenant + "/" + table, g);
    }

    public int port() {
        return server.getPort();
    }

    @Override
    public void close() {
        server.shutdownNow();
    }
}
