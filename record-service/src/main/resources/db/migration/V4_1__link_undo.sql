-- Undo of a link (API.md "POST .../link/undo"): what reconciliation changed, kept with the link
-- in the same transaction as the change, so the column can be restored exactly.
-- previous_type: the column's type before the link (NULL for links made before undo existed).
ALTER TABLE physical_links ADD COLUMN previous_type TEXT;

-- One row per value the link changed: every value it cleared (cleared = true) and, when linking
-- changed the type of a column that was not text, every value it converted (cleared = false).
-- former is PostgreSQL's own text form of the value in the column's former type, which casts
-- back to that type exactly (numeric scale, interval fields included). The rows go with the
-- link: unlink, undo, a dropped column or table delete them.
CREATE TABLE link_undo_values (
    tenant_id  TEXT    NOT NULL,
    table_id   TEXT    NOT NULL,
    column_id  TEXT    NOT NULL,
    record_id  BIGINT  NOT NULL,
    former     TEXT    NOT NULL,
    cleared    BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, table_id, column_id, record_id),
    FOREIGN KEY (tenant_id, table_id, column_id) REFERENCES physical_links (tenant_id, table_id, column_id)
        ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED
);
