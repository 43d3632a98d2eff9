package io.linkbase.kit.outbox;

import io.micronaut.context.annotation.Requires;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.AbstractHealthIndicator;
import jakarta.inject.Singleton;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code outboxRelay} in {@code /health}: DOWN when the relay is not running, or has made no
 * progress for longer than {@code linkbase.outbox.relay.stuck-after} (60 s) while rows wait
 * (the oldest unpublished row is older than that), with the reason and the last error.
 */
@Singleton
@Requires(beans = OutboxRelay.class)
public class OutboxRelayHealthIndicator extends AbstractHealthIndicator<Map<String, Object>> {
    private final OutboxRelay relay;

    public OutboxRelayHealthIndicator(OutboxRelay relay) {
        this.relay = relay;
    }

    @Override
    protected Map<String, Object> getHealthInformation() {
        OutboxRelay.Health health = relay.health();
        healthStatus = health.up() ? HealthStatus.UP : HealthStatus.DOWN;
        Map<String, Object> details = new LinkedHashMap<>();
        if (health.reason() != null) {
            details.put("reason", health.reason());
        }
        details.putAll(health.details());
        return details;
    }

    @Override
    protected String getName() {
        return "outboxRelay";
    }
}
