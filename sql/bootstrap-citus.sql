-- One-time set-up of a Citus cluster for the gateway, run by a DBA as a superuser on the
-- COORDINATOR, in the gateway database, after that database exists on every node with the
-- citus extension and the workers are added (docs/scale-out.md, "Set up the cluster"):
--
--   psql -d gateway -v owner_password="'...'" -v app_password="'...'" -f sql/bootstrap-citus.sql
--
-- It does what sql/bootstrap.sql does for one server, in the order a cluster needs:
-- roles created here are copied to the workers by Citus (with their passwords); the database
-- owner and ACLs propagate because this database has the extension; the schema's owner and
-- privileges do not, so they are set on each worker with run_command_on_workers. Passwords
-- must not contain spaces, quotes or backslashes (they also go into libpq conninfo strings).
\set ON_ERROR_STOP on

SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_owner') AS new_owner,
       NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_app') AS new_app \gset
\if :new_owner
CREATE ROLE gateway_owner LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :owner_password;
\else
ALTER ROLE gateway_owner LOGIN NOSUPERUSER BYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :owner_password;
\endif
\if :new_app
CREATE ROLE gateway_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT PASSWORD :app_password;
\else
ALTER ROLE gateway_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOINHERIT PASSWORD :app_password;
\endif
-- gateway_ingest (record loads, which gateway_app takes with SET LOCAL ROLE) is NOLOGIN on one
-- server; on a cluster it must log in, because the coordinator opens the load's worker
-- connections as the role the transaction has set. Its password is random and lives only in
-- pg_dist_authinfo; the coordinator's pg_hba.conf should reject it (docs/scale-out.md).
SELECT NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'gateway_ingest') AS new_ingest,
       replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '') AS ingest_password \gset
\if :new_ingest
CREATE ROLE gateway_ingest LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'ingest_password';
\else
ALTER ROLE gateway_ingest LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB PASSWORD :'ingest_password';
\endif
GRANT gateway_ingest TO gateway_app;

-- Roles made before the extension (or in another database) are not on the workers: stop here.
SELECT bool_and(result = '3') AS roles_on_workers
  FROM run_command_on_workers($$SELECT count(*) FROM pg_roles
                                WHERE rolname IN ('gateway_owner', 'gateway_app', 'gateway_ingest')$$) \gset
\if :roles_on_workers
\else
\echo 'gateway_owner, gateway_app or gateway_ingest is missing on a worker: create the roles here, in a database with the citus extension, or add the workers after creating them.'
\quit 1
\endif

-- Citus copies CREATE and ALTER ROLE to the workers only for roles it tracks (made in a
-- database with the extension); for a role it does not, set the password on the workers
-- from the coordinator's own (SCRAM) verifier, one role at a time, with Citus's helper.
SELECT nodename, nodeport, success, result
  FROM pg_authid r, run_command_on_workers(format(
       'SELECT worker_create_or_alter_role(%L, NULL, %L)', r.rolname,
       format('ALTER ROLE %I PASSWORD %L', r.rolname, r.rolpassword)))
 WHERE r.rolname = 'gateway_owner' AND NOT EXISTS (
       SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_authid'::regclass AND o.objid = r.oid);
SELECT nodename, nodeport, success, result
  FROM pg_authid r, run_command_on_workers(format(
       'SELECT worker_create_or_alter_role(%L, NULL, %L)', r.rolname,
       format('ALTER ROLE %I PASSWORD %L', r.rolname, r.rolpassword)))
 WHERE r.rolname = 'gateway_app' AND NOT EXISTS (
       SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_authid'::regclass AND o.objid = r.oid);
SELECT nodename, nodeport, success, result
  FROM pg_authid r, run_command_on_workers(format(
       'SELECT worker_create_or_alter_role(%L, NULL, %L)', r.rolname,
       format('ALTER ROLE %I PASSWORD %L', r.rolname, r.rolpassword)))
 WHERE r.rolname = 'gateway_ingest' AND NOT EXISTS (
       SELECT 1 FROM pg_dist_object o WHERE o.classid = 'pg_authid'::regclass AND o.objid = r.oid);

SELECT current_database() AS db \gset
ALTER DATABASE :"db" OWNER TO gateway_owner;
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO gateway_app;
GRANT CONNECT, TEMPORARY ON DATABASE :"db" TO gateway_ingest;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
ALTER SCHEMA public OWNER TO gateway_owner;
SELECT nodename, nodeport, success, result
  FROM run_command_on_workers('REVOKE CREATE ON SCHEMA public FROM PUBLIC');
SELECT nodename, nodeport, success, result
  FROM run_command_on_workers('ALTER SCHEMA public OWNER TO gateway_owner');

-- A tenant transaction names its district with SET LOCAL; Citus carries SET LOCAL to the
-- workers a transaction touches only with this setting (the default is 'none').
ALTER ROLE gateway_app IN DATABASE :"db" SET citus.propagate_set_commands = 'local';

-- Node-to-node authentication: the coordinator opens connections to the workers as the
-- user running the query, so it needs each role's password (nodeid 0: every node).
DELETE FROM pg_dist_authinfo
 WHERE nodeid = 0 AND rolename IN ('gateway_owner', 'gateway_app', 'gateway_ingest');
INSERT INTO pg_dist_authinfo (nodeid, rolename, authinfo)
VALUES (0, 'gateway_owner', 'password=' || :owner_password),
       (0, 'gateway_app', 'password=' || :app_password),
       (0, 'gateway_ingest', 'password=' || :'ingest_password');
