"""sql/bootstrap-citus.sql, the DBA's cluster set-up of docs/scale-out.md, run with psql
against a fresh cluster database: then `gateway migrate` and a tenant transaction work."""

from __future__ import annotations

import asyncio
import secrets
import shutil
import subprocess

import asyncpg
import pytest

from gateway.database.bootstrap import role_url
from gateway.database.migrations import CONTROL, DISTRICT, migrate, sql_root
from tenants.transaction import begin_statement
from tests.citus_cluster import fresh_database

pytestmark = pytest.mark.citus

SCRATCH = "gateway_citus_bootstrap"


async def test_the_dba_script_prepares_every_node(citus_url: str) -> None:
    psql = shutil.which("psql")
    if psql is None:
        pytest.skip("psql is not installed: it runs sql/bootstrap-citus.sql")
    url = await fresh_database(citus_url, SCRATCH)
    owner_pw, app_pw = secrets.token_urlsafe(12), secrets.token_urlsafe(12)
    done = await asyncio.to_thread(
        subprocess.run,
        [
            psql,
            url,
            "-v",
            f"owner_password='{owner_pw}'",
            "-v",
            f"app_password='{app_pw}'",
            "-f",
            str(sql_root() / "bootstrap-citus.sql"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    conn = await asyncpg.connect(url)
    try:
        schema = await conn.fetch(
            "SELECT result FROM run_command_on_workers($$SELECT nspowner::regrole::text"
            " || ' ' || has_schema_privilege('public', 'public', 'CREATE')"
            " FROM pg_namespace WHERE nspname = 'public'$$)"
        )
        assert {r["result"] for r in schema} == {"gateway_owner false"}
        acl = await conn.fetch(
            "SELECT result FROM run_command_on_workers($$SELECT"
            " has_database_privilege('gateway_app', current_database(), 'CONNECT')::text"
            " || ' ' || has_database_privilege('public', current_database(), 'CONNECT')$$)"
        )
        assert {r["result"] for r in acl} == {"true false"}
        setting = await conn.fetchval(
            "SELECT array_to_string(setconfig, ',') FROM pg_db_role_setting"
            " WHERE setrole = 'gateway_app'::regrole AND setdatabase ="
            " (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        assert "citus.propagate_set_commands=local" in setting
        authinfo = await conn.fetch(
            "SELECT rolename FROM pg_dist_authinfo WHERE nodeid = 0 ORDER BY 1"
        )
        assert [r["rolename"] for r in authinfo] == [
            "gateway_app",
            "gateway_ingest",
            "gateway_owner",
        ]
    finally:
        await conn.close()

    owner_url = role_url(url, "gateway_owner", SCRATCH, owner_pw)
    assert await migrate(owner_url, [CONTROL, DISTRICT])
    app = await asyncpg.connect(role_url(url, "gateway_app", SCRATCH, app_pw))
    try:
        await app.execute(begin_statement(1, readonly=True))
        # The setting reached the shard: its policy compares the district it was given.
        plan = "\n".join(
            r[0]
            for r in await app.fetch("EXPLAIN SELECT * FROM students WHERE district_id = $1", 1)
        )
        assert await app.fetchval("SELECT count(*) FROM students WHERE district_id = 1") == 0
        await app.execute("ROLLBACK")
    finally:
        await app.close()
    assert "Task Count: 1" in plan
