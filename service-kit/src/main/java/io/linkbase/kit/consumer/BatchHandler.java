package io.linkbase.kit.consumer;

import io.linkbase.proto.events.v1.EventEnvelope;

import java.util.List;
import java.util.Map;

/**
 * Applies a polled batch of events at once, outside any database transaction, for effects that
 * are idempotent by themselves (e.g. documents written with external versioning). Throwing
 * fails the whole batch: a transient failure re-reads and retries it; a deterministic one is
 * retried a bounded number of times, then the batch is applied event by event so that only the
 * events that fail on their own are parked.
 */
@FunctionalInterface
public interface BatchHandler {
    /**
     * @return the events refused deterministically (position in {@code events} to reason); they
     *     are parked and the rest of the batch counts as applied
     */
    Map<Integer, String> apply(List<EventEnvelope> events) throws Exception;
}
