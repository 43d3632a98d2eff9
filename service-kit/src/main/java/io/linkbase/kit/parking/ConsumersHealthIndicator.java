package io.linkbase.kit.parking;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.kafka.KafkaSettings;
import io.micronaut.context.annotation.Value;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /health} is DOWN when an event consumer of this service is not running (its thread
 * ended), or has been failing, or has made no progress on a non-empty lag, for longer than
 * {@code linkbase.consumers.stuck-after} (60 s by default); the details say which and why.
 */
@Singleton
public class ConsumersHealthIndicator extends AbstractHealthIndicator<Map<String, Object>> {
    private static final Logger LOG = LoggerFactory.getLogger(ConsumersHealthIndicator.class);

    private final KafkaSettings kafka;
    private final Duration stuckAfter;
    private volatile String lastReason;

    public ConsumersHealthIndicator(KafkaSettings kafka,
                                    @Value("${linkbase.consumers.stuck-after:60s}") Duration stuckAfter) {
        this.kafka = kafka;
        this.stuckAfter = stuckAfter;
    }

    @Override
    protected Map<String, Object> getHealthInformation() {
        Map<String, Object> details = new LinkedHashMap<>();
        List<String> problems = new ArrayList<>();
        Instant now = Instant.now();
        for (EventConsumer consumer : kafka.consumers().all()) {
            EventConsumer.Status s = consumer.status();
            String problem = problem(s, now);
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("state", problem == null ? "ok" : problem);
            d.put("lag", s.lag());
            if (!s.partitionLag().isEmpty()) {
                d.put("partitionLag", s.partitionLag());
            }
            d.put("parked", s.parked());
            d.put("lastProgress", s.lastProgress().toString());
            if (s.failingSince() != null) {
                d.put("failingSince", s.failingSince().toString());
            }
            if (s.lastError() != null) {
                d.put("lastError", s.lastError());
            }
            d.put("restarts", s.restarts());
            details.put(s.name(), d);
            if (problem != null) {
                problems.add(s.name() + ": " + problem);
            }
        }
        healthStatus = problems.isEmpty() ? HealthStatus.UP : HealthStatus.DOWN;
        String reason = problems.isEmpty() ? null : String.join("; ", problems);
        if (reason != null) {
            details.put("reason", reason);
        }
        // the reason in the log as well: /health shows details only where details-visible allows
        if (!java.util.Objects.equals(reason, lastReason)) {
            if (reason != null) {
                LOG.warn("consumers DOWN: {}", reason);
            } else {
                LOG.info("consumers UP again");
            }
            lastReason = reason;
        }
        return details;
    }

    /** Why the consumer is unhealthy, or null. */
    String problem(EventConsumer.Status s, Instant now) {
        if (!s.running()) {
            return null; // stopped on purpose (shutdown)
        }
        if (!s.alive()) {
            return "not running (its thread ended): " + s.lastError();
        }
        if (s.failingSince() != null && s.failingSince().plus(stuckAfter).isBefore(now)) {
            return "failing since " + s.failingSince() + ": " + s.lastError();
        }
        if (s.lag() > 0 && s.lastProgress().plus(stuckAfter).isBefore(now)) {
            return "no progress since " + s.lastProgress() + " with " + s.lag() + " events waiting";
        }
        return null;
    }

    @Override
    protected String getName() {
        return "consumers";
    }
}
