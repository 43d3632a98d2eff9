#!/bin/bash
# One database per service (ARCHITECTURE.md: each service owns its own database), each owned by a
# login role of the same name that is no superuser and may connect to its own database only.
# The passwords come from the environment (.env). Runs once, when the postgres volume is first
# initialised.
set -euo pipefail
for db in linkbase_schema linkbase_record linkbase_search; do
  var="LINKBASE_$(echo "${db#linkbase_}" | tr 'a-z' 'A-Z')_DB_PASSWORD"
  password="${!var:?set $var}"
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v db="$db" -v pw="$password" <<'SQL'
CREATE ROLE :"db" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
CREATE DATABASE :"db" OWNER :"db";
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
SQL
done
