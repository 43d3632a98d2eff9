package io.linkbase.kit.consumer;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The event consumers of one application context (one per service), so that health, metrics
 * and the parked-events endpoint find them. A consumer registers itself when started.
 */
public final class ConsumerRegistry {
    private final ConcurrentMap<String, EventConsumer> consumers = new ConcurrentHashMap<>();

    void register(EventConsumer consumer) {
        consumers.put(consumer.name(), consumer);
    }

    public List<EventConsumer> all() {
        return new ArrayList<>(consumers.values());
    }

    public Optional<EventConsumer> get(String name) {
        return Optional.ofNullable(consumers.get(name));
    }
}
