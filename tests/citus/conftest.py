"""The same gateway on a Citus cluster: coordinator + workers, one fresh database per session.

These tests run when GATEWAY_TEST_CITUS_URL names a coordinator (a superuser URL of a database
whose workers are added) and skip, saying so, otherwise. The fixtures below replace the
session's plain-PostgreSQL `database` (and what is built on it) for the tests in this folder
only, so a module here can import a suite written for one server and run it on the cluster.

The fresh database is bootstrapped (roles, ACLs on every node, citus.propagate_set_commands)
and migrated by `gateway migrate`'s own code, which distributes the district tables. Citus's
statistic counters are switched on for the application role, so a test can say how many
multi-shard queries the gateway ran.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway.database.bootstrap import APP_ROLE, bootstrap
from gateway.database.migrations import CONTROL, DISTRICT, migrate
from tests.api.conftest import districts  # noqa: F401 - fixtures reused here
from tests.citus_cluster import fresh_database
from tests.conftest import PgDatabase, app_fixtures
from tests.loading.conftest import bundle, district, stores  # noqa: F401

URL_VARIABLE = "GATEWAY_TEST_CITUS_URL"
CITUS_DATABASE = "gateway_citus_test"


@pytest.fixture(scope="session", autouse=True)
def citus_url() -> str:
    url = os.environ.get(URL_VARIABLE)
    if not url:
        pytest.skip(
            f"{URL_VARIABLE} is not set: set it to a superuser URL of a Citus coordinator"
            " whose workers are added (docs/scale-out.md) to run the citus tests"
        )
    return url


@pytest.fixture(scope="session")
async def database(citus_url: str) -> PgDatabase:
    url = await fresh_database(citus_url, CITUS_DATABASE)
    password = secrets.token_urlsafe(16)
    urls = (await bootstrap(url, [CITUS_DATABASE], password=password))[CITUS_DATABASE]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            f"ALTER ROLE {APP_ROLE} IN DATABASE {CITUS_DATABASE}"
            " SET citus.enable_stat_counters = on"
        )
    finally:
        await conn.close()
    await migrate(urls.owner_url, [CONTROL, DISTRICT])
    return PgDatabase(url, urls.owner_url, urls.app_url, password, "citus")


app_settings, gateway_app = app_fixtures("citus-home")


@pytest.fixture
async def superuser_conn(database: PgDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.superuser_url)
    try:
        yield conn
    finally:
        await conn.close()


async def shard_queries(conn: asyncpg.Connection) -> tuple[int, int]:
    """(single-shard, multi-shard) queries run so far in this database (Citus counters)."""
    row = await conn.fetchrow(
        "SELECT query_execution_single_shard AS one, query_execution_multi_shard AS many"
        " FROM citus_stat_counters WHERE name = current_database()"
    )
    assert row is not None
    return int(row["one"]), int(row["many"])
