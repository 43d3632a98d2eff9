-- Outbox relay v2 (service-kit): lanes, a keyset cursor that never loses a late committer, and
-- parking of rows Kafka refuses. Every new outbox column has a default or is generated, so
-- writers that name only (topic, kafka_key, event_id, event_type, envelope) — Outbox.append and
-- record-service's COPY — keep working unchanged. See docs/decisions.md, "Outbox relay".

-- The writing transaction's id (top-level xid, 64-bit). The relay watches the xids that were in
-- progress when its cursor moved past their rows, and publishes those rows once they commit.
ALTER TABLE outbox ADD COLUMN tx xid8 NOT NULL DEFAULT pg_current_xact_id();

-- An outbox id must be taken AFTER the writing transaction has its xid: then every row whose id
-- is below a row the relay saw committed belongs to a transaction whose xid existed when the
-- relay's snapshot was taken (so it is in that snapshot's in-progress list, or at/above its
-- xmax, which the relay watches too). Column defaults are evaluated in column order (id first),
-- so the xid is taken inside id's default; CASE evaluates its condition before its result.
ALTER TABLE outbox ALTER COLUMN id SET DEFAULT
    (CASE WHEN pg_current_xact_id() IS NOT NULL THEN nextval('outbox_id_seq'::regclass) END);
-- Ids must follow the order in which they were handed out (no per-session caching).
ALTER SEQUENCE outbox_id_seq CACHE 1;

-- 0 = interactive, 1 = bulk (topics named *.bulk.*, e.g. linkbase.records.bulk.v1). Generated
-- from the topic, so no writer has to know about lanes.
ALTER TABLE outbox ADD COLUMN lane SMALLINT NOT NULL
    GENERATED ALWAYS AS ((CASE WHEN topic LIKE '%.bulk.%' THEN 1 ELSE 0 END)::smallint) STORED;

-- The relay reads each lane with a keyset cursor (lane, id > cursor) and its watched late
-- committers with (lane, tx = ANY(...), id <= cursor).
CREATE INDEX outbox_lane_id ON outbox (lane, id);
CREATE INDEX outbox_lane_tx ON outbox (lane, tx, id);

-- Rows are inserted and deleted at a high rate: vacuum every 10,000 dead rows, whatever the
-- table's size, and without throttling (the live table is small when the relay keeps up).
ALTER TABLE outbox SET (
    autovacuum_vacuum_scale_factor = 0,
    autovacuum_vacuum_threshold = 10000,
    autovacuum_vacuum_insert_scale_factor = 0,
    autovacuum_vacuum_insert_threshold = 10000,
    autovacuum_analyze_scale_factor = 0,
    autovacuum_analyze_threshold = 10000,
    autovacuum_vacuum_cost_delay = 0
);

-- Rows Kafka refuses deterministically (too large, invalid, not an envelope), moved here by the
-- relay in the transaction that publishes the rest of their batch. Kept until an operator
-- replays (re-inserts into outbox WITHOUT an id, so the row gets a new one) or drops them.
CREATE TABLE outbox_parked (
    id          BIGINT PRIMARY KEY,
    topic       TEXT NOT NULL,
    kafka_key   TEXT NOT NULL,
    event_id    UUID NOT NULL,
    event_type  TEXT NOT NULL,
    envelope    BYTEA NOT NULL,
    reason      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    parked_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
