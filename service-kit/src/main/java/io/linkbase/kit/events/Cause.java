package io.linkbase.kit.events;

import io.linkbase.kit.grpc.Trace;
import io.linkbase.proto.events.v1.EventEnvelope;

/**
 * Why events are written, as their envelopes say it (one meaning everywhere): the
 * {@code correlation_id} is the id of the user's request the events trace back to (the W3C trace
 * id of the gateway call, carried through every event it causes in every service), the
 * {@code causation_id} the event that caused them ("" for a request). So one action can be
 * followed across services by one id, in the events and in the logs.
 */
public record Cause(String correlationId, String causationId) {
    public Cause {
        correlationId = correlationId == null ? "" : correlationId;
        causationId = causationId == null ? "" : causationId;
    }

    /** Events written by the current request: correlated by its trace id ("" outside a call: each event's own id). */
    public static Cause ofRequest() {
        return new Cause(Trace.currentTraceId(), "");
    }

    /** Events written because of {@code e}: the same request, caused by {@code e}. */
    public static Cause of(EventEnvelope e) {
        return new Cause(e.getCorrelationId(), e.getEventId());
    }
}
