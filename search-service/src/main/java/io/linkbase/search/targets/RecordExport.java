package io.linkbase.search.targets;

import io.grpc.ManagedChannel;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.kit.retry.Retry;
import io.linkbase.proto.internal.v1.ExportRecordsRequest;
import io.linkbase.proto.internal.v1.ExportedPage;
import io.linkbase.proto.internal.v1.ExportedRecord;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.search.index.Doc;
import io.linkbase.search.index.Documents;
import io.linkbase.search.opensearch.IndexFailure;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Streams a table's records from record-service's ExportRecords (one consistent snapshot, each
 * record with the version its RecordUpserted carries) into documents, written in bulk batches
 * with up to {@code IN_FLIGHT} batches being written while the next is built.
 */
@Singleton
class RecordExport {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(RecordExport.class);
    private static final int BATCH = 5_000;
    /** Bulk requests in flight at once: the shard indexes them on parallel write threads. */
    private static final int IN_FLIGHT = 2;
    /**
     * A batch OpenSearch did not take (unreachable, 429, 5xx, no answer within the client's
     * timeout on a starved machine) is retried in place this many times, pausing 0.5 s doubling:
     * documents are idempotent (external versions), and starting the whole export over would
     * throw away everything written so far.
     */
    private static final int BATCH_ATTEMPTS = 5;

    /** Told how far an export has got: after each written batch, and once the total is known. */
    @FunctionalInterface
    public interface Progress {
        Progress NONE = (done, total) -> {
        };

        /** @param total the records in the export's snapshot (0 until known) */
        void update(long done, long total);
    }

    private final String target;
    private volatile ManagedChannel channel;

    private final ServiceCredentials credentials;

    public RecordExport(ServiceCredentials credentials,
                        @Value("${linkbase.services.record:`localhost:9092`}") String target) {
        this.credentials = credentials;
        this.target = target;
    }

    private ManagedChannel channel() {
        ManagedChannel c = channel;
        if (c == null) {
            synchronized (this) {
                if (channel == null) {
                    channel = credentials.channel(target)
                        .maxInboundMessageSize(64 * 1024 * 1024).build();
                }
                c = channel;
            }
        }
        return c;
    }

    /** Exports the table and hands each batch of documents to {@code sink}; returns how many records. */
    public long export(SchemaView.TableShape shape, Function<List<Doc>, Integer> sink) {
        return export(shape, sink, Progress.NONE);
    }

    /** Like {@link #export(SchemaView.TableShape, Function)}, telling {@code progress} how far it got. */
    public long export(SchemaView.TableShape shape, Function<List<Doc>, Integer> sink, Progress progress) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, shape.tenant());
        Iterator<ExportedPage> pages = RecordServiceGrpc.newBlockingStub(channel())
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .exportRecords(ExportRecordsRequest.newBuilder().setTableId(shape.table()).build());
        ExecutorService writer = Executors.newFixedThreadPool(IN_FLIGHT, r -> {
            Thread t = new Thread(r, "backfill-writer");
            t.setDaemon(true);
            return t;
        });
        try {
            long count = 0;
            long total = 0;
            AtomicLong written = new AtomicLong();
            java.util.ArrayDeque<Future<Integer>> inFlight = new java.util.ArrayDeque<>();
            List<Doc> batch = new ArrayList<>(BATCH);
            boolean first = true;
            while (pages.hasNext()) {
                ExportedPage page = pages.next();
                if (first) {
                    first = false;
                    total = page.getTotal();
                    progress.update(0, total);
                }
                for (ExportedRecord r : page.getRecordsList()) {
                    batch.add(Documents.of(shape.tenant(), shape.table(), r.getRecordId(), r.getRecordVersion(),
                        r.getValuesMap(), shape.displayColumnId(), shape.primaryKeyColumnId()));
                    count++;
                    if (batch.size() == BATCH) {
                        if (inFlight.size() == IN_FLIGHT) {
                            await(inFlight.poll());
                        }
                        List<Doc> full = batch;
                        long known = total;
                        inFlight.add(writer.submit(() -> {
                            int n = writeWithRetries(sink, full);
                            progress.update(written.addAndGet(full.size()), known);
                            return n;
                        }));
                        batch = new ArrayList<>(BATCH);
                    }
                }
            }
            while (!inFlight.isEmpty()) {
                await(inFlight.poll());
            }
            writeWithRetries(sink, batch);
            progress.update(written.addAndGet(batch.size()), Math.max(total, count));
            return count;
        } finally {
            writer.shutdownNow();
        }
    }

    private static int writeWithRetries(Function<List<Doc>, Integer> sink, List<Doc> docs) {
        return Retry.call(() -> sink.apply(docs), IndexFailure.class, IndexFailure::isTransient,
            BATCH_ATTEMPTS, Retry.Backoff.exponential(500, 60_000), (e, failures, pause) ->
                LOG.info("bulk write of {} documents failed ({}), attempt {} of {} in {} ms", docs.size(), e.getMessage(),
                    failures + 1, BATCH_ATTEMPTS, pause));
    }

    private static void await(Future<Integer> f) {
        if (f == null) {
            return;
        }
        try {
            f.get(5, TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            throw new IllegalStateException("bulk write failed: " + e.getMessage(), e);
        }
    }

    @PreDestroy
    void close() {
        ManagedChannel c = channel;
        if (c != null) {
            c.shutdownNow();
        }
    }
}
