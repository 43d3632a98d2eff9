package io.linkbase.kit.kafka;

import io.linkbase.kit.consumer.ConsumerRegistry;
import io.linkbase.kit.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Where Kafka is and how our topics are laid out; shared by the relay and the consumers. */
@Singleton
public class KafkaSettings {
    /**
     * The largest message the producers send (their {@code max.request.size}, and the broker's
     * {@code message.max.bytes}): larger events are parked by the outbox relay, never sent.
     * Consumers fetch at most this much per partition per request.
     */
    public static final int MAX_MESSAGE_BYTES = 1024 * 1024;
    /** At most this much per fetch request, over all partitions (bounds a consumer's memory). */
    public static final int MAX_FETCH_BYTES = 8 * MAX_MESSAGE_BYTES;
    /**
     * How long one poll's events may take before the broker deems the consumer dead and
     * rebalances: a ColumnLinked on a 1,000,000-row table takes 8-9 s in record-service (docs/
     * benchmarks.md), so 10 minutes leaves room for a poll of such events on a loaded machine;
     * ordered consumers poll few events at once (see {@link #ORDERED_MAX_POLL_RECORDS}).
     */
    public static final Duration MAX_POLL_INTERVAL = Duration.ofMinutes(10);
    /**
     * How long the broker waits for a silent consumer (heartbeats come from the client's own
     * thread, so slow events never count) before it hands that consumer's partitions to the
     * others: a crashed or killed instance's partitions flow again after this, instead of the
     * client default of 45 s (docs/reliability.md).
     */
    public static final Duration SESSION_TIMEOUT = Duration.ofSeconds(10);
    /** Events per poll for consumers that apply one transaction per event (schema changes). */
    public static final int ORDERED_MAX_POLL_RECORDS = 50;

    private final String bootstrapServers;
    private final Map<String, String> security;
    private final int partitions;
    private final short replicationFactor;
    private final MeterRegistry meters;
    private final int consumerMaxAttempts;
    private final Duration consumerMaxBackoff;
    private final Duration consumerParkAfter;
    private final Duration consumerWaitLimit;
    private final ConsumerRegistry consumers = new ConsumerRegistry();
    private volatile boolean topicsEnsured;

    @Inject
    public KafkaSettings(@Value("${kafka.bootstrap.servers:`localhost:9092`}") String bootstrapServers,
                         @Value("${linkbase.kafka.security-protocol:}") String securityProtocol,
                         @Value("${linkbase.kafka.sasl-mechanism:}") String saslMechanism,
                         @Value("${linkbase.kafka.username:}") String username,
                         @Value("${linkbase.kafka.password:}") String password,
                         @Value("${linkbase.kafka.truststore:}") String truststore,
                         @Value("${linkbase.kafka.keystore:}") String keystore,
                         @Value("${linkbase.kafka.partitions:6}") int partitions,
                         @Value("${linkbase.kafka.replication-factor:1}") short replicationFactor,
                         @Value("${linkbase.consumers.max-attempts:5}") int consumerMaxAttempts,
                         @Value("${linkbase.consumers.max-backoff:5s}") Duration consumerMaxBackoff,
                         @Value("${linkbase.consumers.park-after:5s}") Duration consumerParkAfter,
                         @Value("${linkbase.consumers.wait-limit:10m}") Duration consumerWaitLimit,
                         MeterRegistry meters) {
        this(bootstrapServers, KafkaSecurity.clientProperties(securityProtocol, saslMechanism, username, password,
            truststore, keystore), partitions, replicationFactor, consumerMaxAttempts, consumerMaxBackoff,
            consumerParkAfter, consumerWaitLimit, meters);
    }

    /** @param security the client properties of {@link KafkaSecurity} (credentials, TLS) */
    public KafkaSettings(String bootstrapServers, Map<String, String> security, int partitions, short replicationFactor,
                         int consumerMaxAttempts, Duration consumerMaxBackoff, Duration consumerParkAfter,
                         Duration consumerWaitLimit, MeterRegistry meters) {
        this.bootstrapServers = bootstrapServers;
        this.security = Map.copyOf(security);
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.consumerMaxAttempts = Math.max(1, consumerMaxAttempts);
        this.consumerMaxBackoff = consumerMaxBackoff;
        this.consumerParkAfter = consumerParkAfter;
        this.consumerWaitLimit = consumerWaitLimit;
        this.meters = meters;
    }

    /** Where the Kafka clients report (consumer lag, relay backlog). */
    public MeterRegistry meters() {
        return meters;
    }

    /** The event consumers of this service (for health, metrics and the parked-events endpoint). */
    public ConsumerRegistry consumers() {
        return consumers;
    }

    /** Attempts on an event failing deterministically before a consumer parks it. */
    public int consumerMaxAttempts() {
        return consumerMaxAttempts;
    }

    /**
     * How long an event must have been failing deterministically (as well as max-attempts
     * times) before a consumer parks it: long enough for an event that waits on another
     * partition's event (a link to a table whose creation travels on another partition) to see
     * it applied.
     */
    public Duration consumerParkAfter() {
        return consumerParkAfter;
    }

    /**
     * How long an event may wait for another aggregate's event ({@code NotYetException}) before it
     * is parked after all: a wait that can never end (its awaited event was itself parked) must
     * not hold its partition forever.
     */
    public Duration consumerWaitLimit() {
        return consumerWaitLimit;
    }

    /** The cap of a consumer's retry backoff (failures, Kafka or a database down). */
    public Duration consumerMaxBackoff() {
        return consumerMaxBackoff;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** Where the brokers are and how this client authenticates (every Kafka client of a service starts here). */
    public Properties common() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.putAll(security);
        return p;
    }

    /** A consumer of enveloped events: manual commits, committed reads, sizes set deliberately. */
    public Properties consumer(String groupId, int maxPollRecords) {
        Properties p = common();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, Integer.toString(maxPollRecords));
        p.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(MAX_MESSAGE_BYTES));
        p.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(MAX_FETCH_BYTES));
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Long.toString(MAX_POLL_INTERVAL.toMillis()));
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Long.toString(SESSION_TIMEOUT.toMillis()));
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Long.toString(SESSION_TIMEOUT.toMillis() / 3));
        // reconnect quickly after a broker restart, but not in a tight loop
        p.put(ConsumerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "5000");
        // Topics are created by ensureTopics with their partition count, never implicitly.
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        return p;
    }

    /**
     * Creates Linkbase's topics if missing (keyed topics need a fixed partition count). Throws
     * when Kafka does not answer within 10 s; callers (consumer loops, the relay) retry.
     */
    public void ensureTopics() {
        if (topicsEnsured) {
            return;
        }
        Properties p = common();
        p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "10000");
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        try (Admin admin = Admin.create(p)) {
            for (String topic : List.of(Topics.SCHEMA, Topics.RECORDS, Topics.RECORDS_BULK, Topics.SEARCH)) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, partitions, replicationFactor)))
                        .all().get(10, TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw new IllegalStateException("cannot create topic " + topic, e.getCause());
                    }
                }
            }
            topicsEnsured = true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("Kafka did not answer at " + bootstrapServers, e);
        }
    }
}
