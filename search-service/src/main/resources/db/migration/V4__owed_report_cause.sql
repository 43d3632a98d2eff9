-- A link's reports (LinkTargetIndexed, LinkProgressed) carry the request of its ColumnLinked as
-- their correlation id and that event as their cause, though the backfill that sends them runs
-- later on a thread of its own (kit Cause: one meaning of correlation_id).
ALTER TABLE owed_reports
    ADD COLUMN correlation_id TEXT NOT NULL DEFAULT '',
    ADD COLUMN causation_id   TEXT NOT NULL DEFAULT '';
