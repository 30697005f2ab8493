#!/bin/sh
# Runs once, when the PostgreSQL volume is initialised: the role the application connects as.
# Not superuser, not BYPASSRLS, not the tables' owner, so row-level security applies to it.
# Migrations run as the owner (POSTGRES_USER) and grant it SELECT/INSERT/UPDATE/DELETE.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE registre_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE PASSWORD '${APP_DB_PASSWORD}';
GRANT CONNECT ON DATABASE "$POSTGRES_DB" TO registre_app;
SQL
