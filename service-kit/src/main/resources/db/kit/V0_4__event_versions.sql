-- One gapless version sequence per (tenant, aggregate) for the events a service emits itself
-- (service-kit EventVersions). A version is taken under the row's lock, so versions follow commit
-- order; rows are never deleted, so a deleted aggregate's numbers are never reused. Replaces
-- record-service's record_event_versions and search-service's search_event_versions (each
-- service's next migration moves its rows here).
CREATE TABLE IF NOT EXISTS event_versions (
    tenant_id     TEXT   NOT NULL,
    aggregate_id  TEXT   NOT NULL,
    last_version  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, aggregate_id)
);
