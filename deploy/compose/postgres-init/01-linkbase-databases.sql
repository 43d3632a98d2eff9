-- One database per service (ARCHITECTURE.md: each service owns its own database).
-- Runs once, when the postgres volume is first initialised.
CREATE DATABASE linkbase_schema;
CREATE DATABASE linkbase_record;
CREATE DATABASE linkbase_search;
