package io.linkbase.kit.parking;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.kafka.KafkaSettings;
import io.micronaut.context.annotation.Requires;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.management.endpoint.annotation.Endpoint;
import io.micronaut.management.endpoint.annotation.Read;
import io.micronaut.management.endpoint.annotation.Sensitive;
import io.micronaut.management.endpoint.annotation.Write;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * {@code /parked} on a service's HTTP (management) port: {@code GET} lists the events set aside
 * by its consumers ({@code parked_events}) and by its outbox relay ({@code outbox_parked});
 * {@code POST} replays one. Listing is open like {@code /health} and {@code /prometheus} (the
 * port is reachable only in the cluster, from the monitoring namespace); replaying changes
 * data, so it is sensitive (401) unless {@code endpoints.parked.replay-sensitive=false}
 * (docs/operations.md, "Parked events").
 */
@Endpoint(id = "parked", defaultSensitive = false)
@Requires(beans = Db.class)
public class ParkedEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(ParkedEndpoint.class);

    private final Db db;
    private final KafkaSettings kafka;

    public ParkedEndpoint(Db db, KafkaSettings kafka) {
        this.db = db;
        this.kafka = kafka;
    }

    @Read
    public List<ParkedEvents.Parked> list() {
        return db.read(c -> ParkedEvents.list(c, 1_000));
    }

    /**
     * Replays one parked event. {@code kind=consumer}: re-runs {@code consumer}'s handler on event
     * {@code id} and deletes the parked row, in one transaction; {@code kind=outbox}: moves the
     * relay-parked row {@code id} back into the outbox.
     */
    @Write
    @Sensitive(property = "replay-sensitive")
    public Map<String, Object> replay(String kind, String id, @Nullable String consumer) {
        Map<String, Object> answer = new LinkedHashMap<>();
        answer.put("kind", kind);
        answer.put("id", id);
        boolean done;
        if (ParkedEvents.OUTBOX_KIND.equals(kind)) {
            done = db.inTransaction(c -> ParkedEvents.requeueOutbox(c, Long.parseLong(id)));
        } else if (ParkedEvents.CONSUMER_KIND.equals(kind)) {
            EventConsumer target = (consumer == null ? java.util.Optional.<EventConsumer>empty()
                : kafka.consumers().get(consumer)).orElseThrow(
                () -> new IllegalArgumentException("no consumer " + consumer + " runs in this service"));
            try {
                done = target.replay(UUID.fromString(id));
            } catch (RuntimeException e) {
                LOG.warn("replay of {} by {} failed again; it stays parked: {}", id, consumer, e.toString());
                answer.put("replayed", false);
                answer.put("error", io.linkbase.kit.consumer.Failures.reason(e));
                return answer;
            }
            answer.put("consumer", consumer);
        } else {
            throw new IllegalArgumentException("kind must be consumer or outbox");
        }
        LOG.info("operator replay of {} parked event {}: {}", kind, id, done ? "done" : "not found");
        answer.put("replayed", done);
        return answer;
    }
}
