-- search-service's own bookkeeping (OpenSearch holds the documents; this database holds what
-- the consumers applied, transactionally, and the tables it knows of).
CREATE TABLE known_tables (
    tenant_id          TEXT NOT NULL,
    table_id           TEXT NOT NULL,
    name               TEXT NOT NULL,
    display_column_id  TEXT NOT NULL,
    version            BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, table_id)
);
