package io.linkbase.kit.outbox;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.grpc.Trace;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes the outbox to Kafka in id order, at least once. Each batch runs in one database
 * transaction holding an advisory lock, so with several instances of a service exactly one
 * publishes at a time and per-key order is kept; rows are deleted only after Kafka acknowledged
 * them, so a crash between commit and publish (or between publish and delete) re-publishes and
 * never loses. Consumers are idempotent.
 */
@Singleton
@Requires(beans = DataSource.class)
@Requires(property = "linkbase.outbox.relay.enabled", notEquals = "false")
public class OutboxRelay {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
    /** Advisory lock key: one publisher per database. */
    private static final long LOCK_KEY = 0x6c696e6b62617365L; // "linkbase"
    private static final int BATCH = 500;

    private final Db db;
    private final KafkaSettings kafka;
    private final Duration pollInterval;
    private final Semaphore wakeUp = new Semaphore(0);
    private final AtomicLong backlog = new AtomicLong();
    private final AtomicLong published = new AtomicLong();
    private volatile Thread worker;
    private volatile boolean running;
    private KafkaProducer<String, byte[]> producer;

    public OutboxRelay(Db db, KafkaSettings kafka,
                       @Value("${linkbase.outbox.relay.poll-interval:25ms}") Duration pollInterval,
                       MeterRegistry meters) {
        this.db = db;
        this.kafka = kafka;
        this.pollInterval = pollInterval;
        meters.gauge("linkbase.outbox.backlog", backlog);
        meters.gauge("linkbase.outbox.published", published);
    }

    @EventListener
    void onStartup(StartupEvent event) {
        start();
    }

    @EventListener
    void onShutdown(ShutdownEvent event) {
        stop();
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        producer = new KafkaProducer<>(producerProperties());
        worker = new Thread(this::run, "outbox-relay");
        worker.setDaemon(true);
        worker.start();
    }

    public synchronized void stop() {
        running = false;
        Thread t = worker;
        if (t != null) {
            wakeUp.release();
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        worker = null;
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
            producer = null;
        }
    }

    public boolean isRunning() {
        return running;
    }

    /** A hint that something was appended; the relay also polls on its own. */
    public void wakeUp() {
        wakeUp.release();
    }

    /** Rows waiting to be published, as of the relay's last look. */
    public long backlog() {
        return backlog.get();
    }

    private void run() {
        kafka.ensureTopics();
        while (running) {
            try {
                int sent = publishBatch();
                if (sent < BATCH) {
                    wakeUp.tryAcquire(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                    wakeUp.drainPermits();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                LOG.warn("outbox relay failed, retrying in 1s: {}", e.toString());
                sleepQuietly(1000);
            }
        }
    }

    private int publishBatch() {
        return db.inTransaction(connection -> {
            try (PreparedStatement lock = connection.prepareStatement("SELECT pg_try_advisory_xact_lock(?)")) {
                lock.setLong(1, LOCK_KEY);
                try (ResultSet rs = lock.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return 0; // another instance is publishing
                    }
                }
            }
            List<Long> ids = new ArrayList<>();
            List<Future<?>> acks = new ArrayList<>();
            try (PreparedStatement select = connection.prepareStatement(
                "SELECT id, topic, kafka_key, envelope FROM outbox ORDER BY id LIMIT " + BATCH)) {
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getLong(1));
                        byte[] bytes = rs.getBytes(4);
                        ProducerRecord<String, byte[]> record = new ProducerRecord<>(rs.getString(2), rs.getString(3), bytes);
                        EventEnvelope envelope = Envelopes.parse(bytes);
                        for (Map.Entry<String, byte[]> h : Envelopes.headers(envelope).entrySet()) {
                            record.headers().add(h.getKey(), h.getValue());
                        }
                        String traceparent = Trace.traceparent(envelope.getCorrelationId());
                        if (traceparent != null) {
                            record.headers().add(Trace.KAFKA_HEADER, traceparent.getBytes(StandardCharsets.UTF_8));
                        }
                        acks.add(producer.send(record));
                    }
                }
            }
            if (ids.isEmpty()) {
                backlog.set(0);
                return 0;
            }
            producer.flush();
            for (Future<?> ack : acks) {
                try {
                    ack.get(30, TimeUnit.SECONDS);
                } catch (Exception e) {
                    throw new IllegalStateException("Kafka did not acknowledge the outbox batch", e);
                }
            }
            try (PreparedStatement delete = connection.prepareStatement("DELETE FROM outbox WHERE id = ANY (?)")) {
                delete.setArray(1, connection.createArrayOf("bigint", ids.toArray()));
                delete.executeUpdate();
            }
            published.addAndGet(ids.size());
            backlog.set(ids.size() == BATCH ? BATCH : 0);
            return ids.size();
        });
    }

    private Properties producerProperties() {
        Properties p = kafka.common();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "1");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        return p;
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
