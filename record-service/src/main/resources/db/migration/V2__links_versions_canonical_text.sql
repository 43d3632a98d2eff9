-- record-service: what reads and link reconciliation need besides the physical tables.

-- The display column (link summaries) and uniqueness (link targets, preview) per the schema events.
ALTER TABLE physical_tables ADD COLUMN display_column_id TEXT;
ALTER TABLE physical_columns ADD COLUMN is_unique BOOLEAN NOT NULL DEFAULT false;

-- Live links: one real FOREIGN KEY per row, named fk_<column hex>.
CREATE TABLE physical_links (
    tenant_id         TEXT   NOT NULL,
    table_id          TEXT   NOT NULL,
    column_id         TEXT   NOT NULL,
    target_table_id   TEXT   NOT NULL,
    target_column_id  TEXT   NOT NULL,
    on_delete         TEXT   NOT NULL,
    link_version      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, table_id, column_id),
    FOREIGN KEY (tenant_id, table_id) REFERENCES physical_tables (tenant_id, table_id) ON DELETE CASCADE
);
CREATE INDEX physical_links_by_target ON physical_links (tenant_id, target_table_id);

-- Record events are enveloped with aggregate = the table and aggregate_version = this gapless
-- per-table sequence (allocated under the row lock, so versions follow commit order). Never
-- deleted, so a deleted table's numbers are never reused.
CREATE TABLE record_event_versions (
    tenant_id     TEXT   NOT NULL,
    table_id      TEXT   NOT NULL,
    last_version  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, table_id)
);

-- Canonical text (API.md "Exact match"): the JSON form of a value, as a string. One definition,
-- used by reads, events, retyping, link preview and reconciliation alike.
CREATE FUNCTION lb_canon_number(v numeric) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT trim_scale(v)::text $$;

CREATE FUNCTION lb_canon_date(v date) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT to_char(v, 'YYYY-MM-DD') $$;

-- RFC 3339 in UTC, fractional seconds only when non-zero and without trailing zeros.
CREATE FUNCTION lb_canon_timestamp(v timestamptz) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT to_char(v AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS')
        || coalesce(nullif(rtrim(to_char(v AT TIME ZONE 'UTC', '.US'), '0'), '.'), '') || 'Z' $$;

-- ISO-8601 durations (PT3M25S) whatever the session's IntervalStyle.
CREATE FUNCTION lb_canon_duration(v interval) RETURNS text
    LANGUAGE sql STABLE PARALLEL SAFE SET intervalstyle = 'iso_8601' AS $$ SELECT v::text $$;

-- Parsers: text -> typed value, NULL unless the text is exactly the value's canonical text.
-- Plain SQL where a pattern decides (inlined, no per-row call); an exception block only for the
-- few texts that already look right, so bad rows never cost a subtransaction.
CREATE FUNCTION lb_parse_integer(s text) RETURNS bigint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~ '^(0|-?[1-9][0-9]{0,18})$' THEN
        CASE WHEN length(s) < 19 OR s::numeric BETWEEN -9223372036854775808 AND 9223372036854775807
             THEN s::bigint END END $$;

CREATE FUNCTION lb_parse_number(s text) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~ '^-?(0|[1-9][0-9]*)(\.[0-9]*[1-9])?$' AND s <> '-0' THEN s::numeric END $$;

CREATE FUNCTION lb_parse_boolean(s text) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE s WHEN 'true' THEN true WHEN 'false' THEN false END $$;

CREATE FUNCTION lb_parse_uuid(s text) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN s ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN s::uuid END $$;

CREATE FUNCTION lb_parse_date(s text) RETURNS date
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE d date;
BEGIN
    IF s IS NULL OR s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN RETURN NULL; END IF;
    BEGIN
        d := s::date;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    RETURN CASE WHEN lb_canon_date(d) = s THEN d END;
END $$;

CREATE FUNCTION lb_parse_timestamp(s text) RETURNS timestamptz
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE t timestamptz;
BEGIN
    IF s IS NULL OR s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]*[1-9])?Z$' THEN RETURN NULL; END IF;
    BEGIN
        t := s::timestamptz;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    RETURN CASE WHEN lb_canon_timestamp(t) = s THEN t END;
END $$;

CREATE FUNCTION lb_parse_duration(s text) RETURNS interval
    LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE i interval;
BEGIN
    IF s IS NULL OR s !~ '^P[-0-9.YMWDTHS]+$' THEN RETURN NULL; END IF;
    BEGIN
        i := s::interval;
    EXCEPTION WHEN others THEN
        RETURN NULL;
    END;
    RETURN CASE WHEN lb_canon_duration(i) = s THEN i END;
END $$;
