-- schema-service: the event store (source of truth) and its read model.

-- Provisioned tenants.
CREATE TABLE tenants (
    tenant_id       TEXT PRIMARY KEY,
    provisioned_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Append-only: one row per event. The primary key makes a concurrent writer of the same
-- table version fail, which is how optimistic concurrency is enforced.
CREATE TABLE events (
    tenant_id       TEXT        NOT NULL,
    aggregate_id    TEXT        NOT NULL,
    version         BIGINT      NOT NULL CHECK (version > 0),
    event_id        UUID        NOT NULL UNIQUE,
    event_type      TEXT        NOT NULL,
    occurred_at     TIMESTAMPTZ NOT NULL,
    envelope        BYTEA       NOT NULL,
    PRIMARY KEY (tenant_id, aggregate_id, version)
);

-- Read model: the current state of each table (a linkbase.v1.Table message), rebuilt from
-- events in the same transaction that appends them.
CREATE TABLE table_views (
    tenant_id       TEXT    NOT NULL,
    table_id        TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    version         BIGINT  NOT NULL,
    deleted         BOOLEAN NOT NULL DEFAULT false,
    state           BYTEA   NOT NULL,
    PRIMARY KEY (tenant_id, table_id)
);
-- Table names are unique per tenant, case-insensitively (API.md).
CREATE UNIQUE INDEX table_views_name ON table_views (tenant_id, lower(name)) WHERE NOT deleted;
