-- The one rebuild of the index that may run, over every search-service instance
-- (index/IndexRebuilds). The row is the lease (owner, heartbeat) and, once new_index is set,
-- tells every instance to write each live change to that index too (dual write).
CREATE TABLE index_rebuild (
    alias         TEXT        PRIMARY KEY,
    owner         TEXT        NOT NULL,
    tenant_id     TEXT,                       -- null: every tenant
    old_index     TEXT,
    new_index     TEXT,                       -- null until the new index exists
    started_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    heartbeat_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
