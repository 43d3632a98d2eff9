-- Rows per table is a per-plan quota (docs/limits.md): every physical table's row count, moved in
-- the same transaction as its rows (records/RowQuota).
ALTER TABLE physical_tables ADD COLUMN row_count BIGINT NOT NULL DEFAULT 0;

DO $$
DECLARE
    t RECORD;
    n BIGINT;
BEGIN
    FOR t IN SELECT tenant_id, table_id, schema_name, table_name FROM physical_tables LOOP
        IF to_regclass(format('%I.%I', t.schema_name, t.table_name)) IS NOT NULL THEN
            EXECUTE format('SELECT count(*) FROM %I.%I', t.schema_name, t.table_name) INTO n;
            UPDATE physical_tables SET row_count = n WHERE tenant_id = t.tenant_id AND table_id = t.table_id;
        END IF;
    END LOOP;
END $$;
