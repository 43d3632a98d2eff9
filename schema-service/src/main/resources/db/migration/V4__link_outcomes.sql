-- What each link's reconciliation did (LinkReconciled's kept and cleared counts), kept after the
-- link is removed or undone, so a table's history shows the counts of every ColumnLinked, not
-- only of the live link (`links` forgets a link with its ColumnUnlinked). Removed with the table.
CREATE TABLE link_outcomes (
    tenant_id      TEXT   NOT NULL,
    table_id       TEXT   NOT NULL,
    column_id      TEXT   NOT NULL,
    link_version   BIGINT NOT NULL,   -- aggregate_version of the ColumnLinked
    kept_count     BIGINT NOT NULL,
    cleared_count  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, table_id, link_version, column_id)
);
INSERT INTO link_outcomes (tenant_id, table_id, column_id, link_version, kept_count, cleared_count)
SELECT tenant_id, table_id, column_id, link_version, kept_count, cleared_count FROM links WHERE reconciled;
