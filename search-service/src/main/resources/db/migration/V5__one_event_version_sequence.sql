-- search-service's own event sequence moves to the kit's one mechanism (event_versions, kit V0_4;
-- docs/decisions.md "One path for events").
INSERT INTO event_versions (tenant_id, aggregate_id, last_version)
SELECT tenant_id, aggregate_id, last_version FROM search_event_versions
ON CONFLICT (tenant_id, aggregate_id) DO UPDATE SET last_version = GREATEST(event_versions.last_version, EXCLUDED.last_version);
DROP TABLE search_event_versions;
