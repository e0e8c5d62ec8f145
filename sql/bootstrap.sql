-- One-time set-up of a production PostgreSQL for the gateway, run by a DBA as a superuser:
--
--   psql -v owner_password="'...'" -v app_password="'...'" -f sql/bootstrap.sql
--
-- gateway_owner: owns the schema, runs `gateway migrate`, bulk-loads district data
--                (BYPASSRLS: COPY into row-level-secured tables is refused otherwise).
-- gateway_app:   what `gateway serve` connects as; owns nothing and cannot bypass RLS.
-- gateway_ingest: no login; gateway_app takes it (SET LOCAL ROLE) inside the one transaction
--                that loads a district's records, so loads go through row-level security.
-- The migrations grant gateway_app and gateway_ingest exactly what they need.
CREATE ROLE gateway_owner LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :owner_password;
CREATE ROLE gateway_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT PASSWORD :app_password;
CREATE ROLE gateway_ingest NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
GRANT gateway_ingest TO gateway_app;
-- Not in production (where `gateway seed` is refused): on a staging server of PostgreSQL 15+,
--   GRANT SET ON PARAMETER session_replication_role TO gateway_owner;
-- lets the synthetic seed check foreign keys set-based rather than row by row (faster).
CREATE DATABASE gateway OWNER gateway_owner ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE gateway FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE gateway TO gateway_app;
-- Loads stage rows in temporary tables before the set-based replace.
GRANT TEMPORARY ON DATABASE gateway TO gateway_ingest;
\connect gateway
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO gateway_owner;
