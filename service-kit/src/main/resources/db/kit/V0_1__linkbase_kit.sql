-- Tables of the event spine that every service database holds (service-kit).
-- Kit migrations use versions 0.x; a service's own migrations start at 1.

-- Transactional outbox: written in the same transaction as the state change, published in
-- id order by OutboxRelay, deleted once Kafka acknowledged it.
CREATE TABLE outbox (
    id                BIGSERIAL PRIMARY KEY,
    topic             TEXT        NOT NULL,
    kafka_key         TEXT        NOT NULL,
    event_id          UUID        NOT NULL UNIQUE,
    event_type        TEXT        NOT NULL,
    envelope          BYTEA       NOT NULL,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Idempotent consumers: the last aggregate version each consumer applied, per aggregate,
-- written in the same transaction as the effect.
CREATE TABLE applied_versions (
    consumer          TEXT   NOT NULL,
    tenant_id         TEXT   NOT NULL,
    aggregate_id      TEXT   NOT NULL,
    version           BIGINT NOT NULL,
    PRIMARY KEY (consumer, tenant_id, aggregate_id)
);

-- Events a consumer could not apply (unknown type, newer schema): kept visibly, never lost.
CREATE TABLE parked_events (
    consumer          TEXT        NOT NULL,
    event_id          UUID        NOT NULL,
    event_type        TEXT        NOT NULL,
    reason            TEXT        NOT NULL,
    envelope          BYTEA       NOT NULL,
    parked_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
