-- Read model of the live links: one row per linked column, written in the transaction that
-- appends ColumnLinked and removed with ColumnUnlinked / ColumnDropped / TableDeleted. It
-- answers "who links to this table?" without scanning every table, and carries what the
-- other services report about the link (LinkReconciled, LinkTargetIndexed), which is not
-- part of the table's own event stream.
CREATE TABLE links (
    tenant_id         TEXT    NOT NULL,
    table_id          TEXT    NOT NULL,
    column_id         TEXT    NOT NULL,
    link_version      BIGINT  NOT NULL,   -- aggregate_version of the ColumnLinked
    target_table_id   TEXT    NOT NULL,
    target_column_id  TEXT    NOT NULL,
    reconciled        BOOLEAN NOT NULL DEFAULT false,  -- record-service's LinkReconciled seen
    indexed           BOOLEAN NOT NULL DEFAULT false,  -- search-service's LinkTargetIndexed seen
    kept_count        BIGINT  NOT NULL DEFAULT 0,
    cleared_count     BIGINT  NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, table_id, column_id)
);
CREATE INDEX links_target ON links (tenant_id, target_table_id);
