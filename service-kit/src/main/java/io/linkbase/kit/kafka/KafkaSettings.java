package io.linkbase.kit.kafka;

import io.linkbase.kit.events.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Where Kafka is and how our topics are laid out; shared by the relay and the consumers. */
@Singleton
public class KafkaSettings {
    private final String bootstrapServers;
    private final int partitions;
    private final short replicationFactor;
    private final MeterRegistry meters;
    private volatile boolean topicsEnsured;

    public KafkaSettings(@Value("${kafka.bootstrap.servers:`localhost:9092`}") String bootstrapServers,
                         @Value("${linkbase.kafka.partitions:6}") int partitions,
                         @Value("${linkbase.kafka.replication-factor:1}") short replicationFactor,
                         MeterRegistry meters) {
        this.bootstrapServers = bootstrapServers;
        this.partitions = partitions;
        this.replicationFactor = replicationFactor;
        this.meters = meters;
    }

    /** Where the Kafka clients report (consumer lag, relay backlog). */
    public MeterRegistry meters() {
        return meters;
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    public Properties common() {
        Properties p = new Properties();
        p.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return p;
    }

    /** Creates Linkbase's topics if missing (keyed topics need a fixed partition count). */
    public void ensureTopics() {
        if (topicsEnsured) {
            return;
        }
        try (Admin admin = Admin.create(common())) {
            for (String topic : List.of(Topics.SCHEMA, Topics.RECORDS, Topics.RECORDS_BULK, Topics.SEARCH)) {
                try {
                    admin.createTopics(List.of(new NewTopic(topic, partitions, replicationFactor)))
                        .all().get(30, TimeUnit.SECONDS);
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
