-- record-service: the catalog of physical tables it created from schema events.
-- User data lives in one schema per tenant ("tenant_<id>"), one table per user table
-- ("t_<id>"), one column per user column ("c_<id>"); these names are generated, never typed.
CREATE TABLE physical_tables (
    tenant_id     TEXT NOT NULL,
    table_id      TEXT NOT NULL,
    schema_name   TEXT NOT NULL,
    table_name    TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, table_id)
);

CREATE TABLE physical_columns (
    tenant_id     TEXT    NOT NULL,
    table_id      TEXT    NOT NULL,
    column_id     TEXT    NOT NULL,
    column_name   TEXT    NOT NULL,
    column_type   TEXT    NOT NULL,
    primary_key   BOOLEAN NOT NULL,
    PRIMARY KEY (tenant_id, table_id, column_id),
    FOREIGN KEY (tenant_id, table_id) REFERENCES physical_tables (tenant_id, table_id) ON DELETE CASCADE
);
