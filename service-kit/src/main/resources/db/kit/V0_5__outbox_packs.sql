-- Outbox v5 (service-kit): a row may carry several events of one topic and key, a "pack" (written
-- by OutboxRows on a bulk topic: an import, a reconciliation). `events` says how many; for more
-- than one, `envelope` holds each envelope as its 4-byte big-endian length and its bytes, and
-- event_id / event_type are the first event's. The relay publishes a pack as that many Kafka
-- messages; a parked pack keeps its events. A row per event cost an insert into three indexes, a
-- delete and a vacuum for every imported row (docs/decisions.md "Import speed").
ALTER TABLE outbox ADD COLUMN events INT NOT NULL DEFAULT 1;
ALTER TABLE outbox_parked ADD COLUMN events INT NOT NULL DEFAULT 1;
-- Packs are up to 256 KB: stored out of line as they are, without pglz compression (CPU is what
-- an import runs short of; the bytes are deleted within seconds).
ALTER TABLE outbox ALTER COLUMN envelope SET STORAGE EXTERNAL;
