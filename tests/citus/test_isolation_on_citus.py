"""The isolation suite, on a Citus coordinator: the shards' policies keep districts apart.

Every test of tests/tenants/test_isolation.py and test_transaction.py runs here unchanged
against the cluster, but one: the append-only trigger that refuses even the owner on plain
PostgreSQL is dropped on Citus, which cannot distribute a table with triggers. What holds
the disclosure log there is checked instead, on every shard.
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.tenants.test_isolation import *  # noqa: F403 - the same suite, on the cluster
from tests.tenants.test_isolation import DISTRICT_TABLES
from tests.tenants.test_transaction import *  # noqa: F403

pytestmark = pytest.mark.citus

# On Citus the guarantee is privileges and policies (see the module docstring).
del test_disclosure_log_refuses_update_even_for_the_owner  # noqa: F821


async def test_every_district_table_is_distributed_by_district_id_and_co_located(
    owner_conn: asyncpg.Connection,
) -> None:
    rows = await owner_conn.fetch(
        "SELECT logicalrelid::text AS name, column_to_column_name(logicalrelid, partkey) AS col,"
        " colocationid FROM pg_dist_partition WHERE partmethod = 'h'"
    )
    distributed = {r["name"]: r for r in rows}
    assert set(DISTRICT_TABLES) <= set(distributed)
    assert {distributed[t]["col"] for t in DISTRICT_TABLES} == {"district_id"}
    assert len({distributed[t]["colocationid"] for t in DISTRICT_TABLES}) == 1
    registered = {
        r["table_name"]
        for r in await owner_conn.fetch("SELECT table_name FROM gateway_district_tables")
    }
    assert registered == set(distributed)


async def test_control_tables_stay_local_on_the_coordinator(
    owner_conn: asyncpg.Connection,
) -> None:
    citus_tables = {
        r["name"]
        for r in await owner_conn.fetch("SELECT logicalrelid::text AS name FROM pg_dist_partition")
    }
    for table in ("districts", "credentials", "signing_keys", "audit_log", "release_batches"):
        assert table not in citus_tables
    # Their change-feed triggers are still there (LISTEN/NOTIFY works on local tables).
    assert (
        await owner_conn.fetchval(
            "SELECT count(*) FROM pg_trigger WHERE tgname = 'districts_notify'"
        )
        == 1
    )


async def test_disclosure_log_is_append_only_on_every_shard(
    superuser_conn: asyncpg.Connection,
) -> None:
    privileges = await superuser_conn.fetch(
        "SELECT success, result FROM run_command_on_shards('disclosures', $$SELECT"
        " has_table_privilege('gateway_app', '%1$s', 'UPDATE')"
        " OR has_table_privilege('gateway_app', '%1$s', 'DELETE')"
        " OR has_table_privilege('gateway_app', '%1$s', 'TRUNCATE')$$)"
    )
    assert privileges and all(r["success"] and r["result"] == "f" for r in privileges)
    policies = await superuser_conn.fetch(
        "SELECT success, result FROM run_command_on_shards('disclosures', $$SELECT"
        " string_agg(polcmd::text, ',' ORDER BY polcmd) || ' ' || c.relforcerowsecurity"
        " FROM pg_class c LEFT JOIN pg_policy p ON p.polrelid = c.oid"
        " WHERE c.oid = '%s'::regclass GROUP BY c.relforcerowsecurity$$)"
    )
    # Policies for SELECT (r) and INSERT (a) only, row-level security forced, on each shard.
    assert policies and {r["result"] for r in policies} == {"a,r true"}


async def test_student_shards_force_row_level_security(
    superuser_conn: asyncpg.Connection,
) -> None:
    for table in DISTRICT_TABLES:
        rows = await superuser_conn.fetch(
            "SELECT result FROM run_command_on_shards($1, $$SELECT relrowsecurity AND"
            " relforcerowsecurity FROM pg_class WHERE oid = '%s'::regclass$$)",
            table,
        )
        assert rows and {r["result"] for r in rows} == {"t"}, table
