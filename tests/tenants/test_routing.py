"""The directory routes each district to its data store, and hears about changes at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import DISTRICT, migrate
from gateway.services import Services
from tenants import tenant_transaction
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_district, add_student

SECOND = "gateway_test_east"


@pytest.fixture(scope="module")
async def second_store(database: PgDatabase) -> tuple[str, str]:
    """Another database (a second store) with the district schema only: (owner, app) URLs."""
    urls = (
        await bootstrap(database.superuser_url, [SECOND], password=database.password, fresh=True)
    )[SECOND]
    await migrate(urls.owner_url, [DISTRICT])
    return urls.owner_url, urls.app_url


@pytest.fixture
async def services(
    database: PgDatabase, second_store: tuple[str, str], tmp_path: Path
) -> AsyncIterator[Services]:
    settings = database.settings(tmp_path).with_database(
        database.app_url,
        database.owner_url,
        stores={"east": second_store[1]},
        migration_stores={"east": second_store[0]},
    )
    svc = await Services.open(settings)
    try:
        yield svc
    finally:
        await svc.stop()


async def test_district_in_second_store_is_served_from_there(
    services: Services, second_store: tuple[str, str], owner_conn: asyncpg.Connection
) -> None:
    east_owner = await asyncpg.connect(second_store[0])
    try:
        district = await add_district(owner_conn, unique_lea(), store="east")
        await add_student(east_owner, district.id, "3000000003", last_name="Eastman")
    finally:
        await east_owner.close()

    found = await services.directory.by_lea(district.lea_code)
    assert found is not None and found.store == "east"
    async with tenant_transaction(services.stores, found, readonly=True) as tx:
        assert await tx.fetchval("SELECT current_database()") == SECOND
        assert (
            await tx.fetchval(
                "SELECT last_name FROM students WHERE district_id = $1 AND student_id = $2",
                tx.district_id,
                "3000000003",
            )
            == "Eastman"
        )
    # The main store has nothing of it (the owner role sees every row there).
    assert (
        await owner_conn.fetchval(
            "SELECT count(*) FROM students WHERE district_id = $1", district.id
        )
        == 0
    )


async def test_unknown_store_is_unavailable_not_silently_main(
    services: Services, owner_conn: asyncpg.Connection
) -> None:
    from gateway.errors import StoreUnavailable

    district = await add_district(owner_conn, unique_lea(), store="west")
    found = await services.directory.by_lea(district.lea_code)
    assert found is not None
    with pytest.raises(StoreUnavailable):
        async with tenant_transaction(services.stores, found):
            pass


async def eventually(predicate: object, timeout: float = 2.0) -> bool:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.01)
    return True


async def test_directory_hears_suspension_and_new_districts(
    services: Services, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    # A district added after start-up arrives through the change feed, not by polling.
    assert await eventually(lambda: services.directory.cached(district.lea_code) is not None)
    await owner_conn.execute(
        "UPDATE districts SET status = 'suspended' WHERE district_id = $1", district.id
    )
    assert await eventually(
        lambda: (
            (d := services.directory.cached(district.lea_code)) is not None
            and d.status == "suspended"
        )
    )


async def test_directory_reloads_after_losing_its_listener(
    services: Services, owner_conn: asyncpg.Connection, database: PgDatabase
) -> None:
    # Kill the listening connection from the server side; changes made while it was down
    # must still arrive (the feed reloads in full on reconnect).
    su = await asyncpg.connect(database.superuser_url)
    try:
        killed = await su.fetchval(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE query LIKE 'LISTEN%' AND datname = $1) AS t",
            "gateway_test",
        )
        assert killed >= 1
    finally:
        await su.close()
    district = await add_district(owner_conn, unique_lea())
    await owner_conn.execute(
        "UPDATE districts SET name = 'Renamed' WHERE district_id = $1", district.id
    )
    assert await eventually(
        lambda: (
            (d := services.directory.cached(district.lea_code)) is not None and d.name == "Renamed"
        ),
        timeout=5,
    )
