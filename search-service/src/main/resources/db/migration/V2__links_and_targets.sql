-- What search-service knows of each tenant's schema (from linkbase.schema.v1), enough to decide
-- which tables are link targets and how to turn a record into a document.
ALTER TABLE known_tables ADD COLUMN primary_key_column_id TEXT NOT NULL DEFAULT '';

CREATE TABLE known_columns (
    tenant_id    TEXT    NOT NULL,
    table_id     TEXT    NOT NULL,
    column_id    TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    primary_key  BOOLEAN NOT NULL,
    is_unique    BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, table_id, column_id)
);

-- A Link: the linking table's column -> the target table's column (same name as in API.md).
CREATE TABLE links (
    tenant_id         TEXT   NOT NULL,
    table_id          TEXT   NOT NULL,
    column_id         TEXT   NOT NULL,
    target_table_id   TEXT   NOT NULL,
    target_column_id  TEXT   NOT NULL,
    link_version      BIGINT NOT NULL,  -- aggregate_version of the ColumnLinked
    PRIMARY KEY (tenant_id, table_id, column_id)
);
CREATE INDEX links_by_target ON links (tenant_id, target_table_id);

-- The tables that are indexed (at least one link targets them). BACKFILLING: the backfiller
-- owes a full export of the table (first time, or after a change that alters every document,
-- e.g. a new display column); generation tells one backfill request from the next.
CREATE TABLE targets (
    tenant_id      TEXT   NOT NULL,
    table_id       TEXT   NOT NULL,
    state          TEXT   NOT NULL CHECK (state IN ('BACKFILLING', 'INDEXED')),
    generation     BIGINT NOT NULL DEFAULT 1,
    indexed_count  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, table_id)
);

-- LinkTargetIndexed owed to a link once its target is fully indexed.
CREATE TABLE owed_reports (
    tenant_id         TEXT   NOT NULL,
    table_id          TEXT   NOT NULL,
    column_id         TEXT   NOT NULL,
    target_table_id   TEXT   NOT NULL,
    link_version      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, table_id, column_id, link_version)
);

-- The gapless version sequence of search-service's own events, per (tenant, aggregate).
CREATE TABLE search_event_versions (
    tenant_id     TEXT   NOT NULL,
    aggregate_id  TEXT   NOT NULL,
    last_version  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, aggregate_id)
);
