package io.linkbase.kit.kafka;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** The consumer settings the kit's delivery guarantees depend on. */
class KafkaSettingsTest {
    private static KafkaSettings settings(int maxAttempts) {
        return new KafkaSettings("broker-1:9092,broker-2:9092", java.util.Map.of(), 6, (short) 1, maxAttempts, Duration.ofSeconds(5),
            Duration.ofSeconds(5), Duration.ofMinutes(10), new SimpleMeterRegistry());
    }

    @Test
    void consumersCommitByHandReadOnlyCommittedEventsAndStartFromTheBeginning() {
        Properties p = settings(5).consumer("record-service.schema", 50);
        assertThat(p.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG)).isEqualTo("broker-1:9092,broker-2:9092");
        assertThat(p.get(ConsumerConfig.GROUP_ID_CONFIG)).isEqualTo("record-service.schema");
        // offsets are committed only after the event's transaction (at-least-once + idempotence)
        assertThat(p.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG)).isEqualTo("false");
        // the relay's idempotent producer may leave aborted writes: never read them
        assertThat(p.get(ConsumerConfig.ISOLATION_LEVEL_CONFIG)).isEqualTo("read_committed");
        // a new consumer group must see every event since the topic began, not only new ones
        assertThat(p.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG)).isEqualTo("earliest");
        // keyed topics need their fixed partition count: created by ensureTopics, never implicitly
        assertThat(p.get(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG)).isEqualTo("false");
        assertThat(p.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)).isEqualTo("50");
    }

    @Test
    void aConsumerFetchesNoMoreThanTheLargestMessagePerPartitionAndEightInAll() {
        Properties p = settings(5).consumer("g", 500);
        assertThat(p.get(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG))
            .isEqualTo(Integer.toString(KafkaSettings.MAX_MESSAGE_BYTES));
        assertThat(p.get(ConsumerConfig.FETCH_MAX_BYTES_CONFIG))
            .isEqualTo(Integer.toString(8 * KafkaSettings.MAX_MESSAGE_BYTES));
        assertThat(p.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG))
            .isEqualTo(Long.toString(KafkaSettings.MAX_POLL_INTERVAL.toMillis()));
        assertThat(p.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG)).isEqualTo("500");
    }

    @Test
    void anEventIsAlwaysTriedAtLeastOnceBeforeItIsParked() {
        assertThat(settings(0).consumerMaxAttempts()).isEqualTo(1);
        assertThat(settings(-3).consumerMaxAttempts()).isEqualTo(1);
        assertThat(settings(5).consumerMaxAttempts()).isEqualTo(5);
    }
}
