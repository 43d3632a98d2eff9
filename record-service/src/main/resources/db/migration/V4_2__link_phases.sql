-- Reconciliation in steps (docs/decisions.md "Writers during a link"): a link's row is written
-- when its reconciliation starts and says how far it got, so a restart resumes it.
-- phase: CLEARING (clearing what can never match, column not converted yet: not a link for
-- readers and writers), VALIDATING (converted, foreign key added NOT VALID: a link for everyone),
-- ACTIVE (validated, LinkReconciled published). Links made before this migration are ACTIVE.
-- kept_base / cleared_base: the non-empty values and the cleared ones when the column was
-- converted, so the kept count stays exact when the rest is cleared in later transactions.
ALTER TABLE physical_links ADD COLUMN phase TEXT NOT NULL DEFAULT 'ACTIVE';
ALTER TABLE physical_links ADD COLUMN kept_base BIGINT;
ALTER TABLE physical_links ADD COLUMN cleared_base BIGINT;
