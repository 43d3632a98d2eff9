-- How far a link's long work has got (LinkProgressed: rows reconciled by record-service,
-- documents indexed by search-service), newest report per phase, and when each service
-- finished (its report's occurred_at) and when schema-service applied that report.
ALTER TABLE links
    ADD COLUMN reconcile_done        BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN reconcile_total       BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN reconcile_reported_ms BIGINT NOT NULL DEFAULT 0,  -- the newest report's clock, in ms
    ADD COLUMN index_done            BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN index_total           BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN index_reported_ms     BIGINT NOT NULL DEFAULT 0,
    ADD COLUMN reconciled_at         TIMESTAMPTZ,   -- LinkReconciled's occurred_at
    ADD COLUMN reconciled_applied_at TIMESTAMPTZ,
    ADD COLUMN indexed_at            TIMESTAMPTZ,   -- LinkTargetIndexed's occurred_at
    ADD COLUMN indexed_applied_at    TIMESTAMPTZ;
