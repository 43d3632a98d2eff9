-- Outbox v3 (service-kit): no unique index on event_id. Nothing looks rows up by event id (the
-- relay reads by lane and id, deletes by id); ids are random UUIDs with 122 random bits, and
-- consumers deduplicate by aggregate version, not by this constraint. Its random-key inserts
-- were about a fifth of the cost of a 10,000-row outbox COPY (docs/decisions.md, "Import speed").
ALTER TABLE outbox DROP CONSTRAINT IF EXISTS outbox_event_id_key;
