#!/bin/sh
# One-time set-up of the Citus cluster of docker-compose.citus.yml, run from the `cluster`
# service once the coordinator and workers answer (docs/scale-out.md, "Set up the cluster").
# Every node already has the gateway database with the citus extension (the image creates it
# in POSTGRES_DB). Safe to run again.
set -eu
export PGHOST=coordinator PGUSER=postgres PGDATABASE=gateway
psql -v ON_ERROR_STOP=1 <<'SQL'
SELECT citus_set_coordinator_host('coordinator', 5432);
SELECT citus_add_node(w, 5432) FROM unnest(ARRAY['worker1', 'worker2']) AS w
 WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodename = w AND nodeport = 5432);
SQL
psql -v ON_ERROR_STOP=1 \
  -v owner_password="'${GATEWAY_OWNER_PASSWORD}'" \
  -v app_password="'${GATEWAY_APP_PASSWORD}'" \
  -f /bootstrap/bootstrap-citus.sql
