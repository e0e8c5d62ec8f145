#!/bin/sh
# First start of the postgres container: create the gateway's roles and database.
set -eu
psql -v ON_ERROR_STOP=1 -U postgres \
  -v owner_password="'${GATEWAY_OWNER_PASSWORD}'" \
  -v app_password="'${GATEWAY_APP_PASSWORD}'" \
  -f /bootstrap/bootstrap.sql
