-- The table's record-event sequence moves to the kit's one mechanism (event_versions, kit V0_4;
-- docs/decisions.md "One path for events"): same rows, aggregate = the table.
INSERT INTO event_versions (tenant_id, aggregate_id, last_version)
SELECT tenant_id, table_id, last_version FROM record_event_versions
ON CONFLICT (tenant_id, aggregate_id) DO UPDATE SET last_version = GREATEST(event_versions.last_version, EXCLUDED.last_version);
DROP TABLE record_event_versions;
