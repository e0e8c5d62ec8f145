"""The tenant transaction's first round trip: BEGIN and the district, nothing else."""

from __future__ import annotations

import asyncpg
import pytest

from tenants import District, StoreRegistry, tenant_transaction
from tenants.transaction import begin_statement
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_district, add_student


def test_begin_statement_names_the_district_with_set_local() -> None:
    assert begin_statement(42) == (
        "BEGIN READ WRITE; DO $$BEGIN SET LOCAL app.district_id = '42'; END$$"
    )
    assert begin_statement(7, readonly=True).startswith("BEGIN READ ONLY; ")


@pytest.mark.parametrize("bad", ["42", "1'; DROP TABLE students; --", 4.0, True, None])
def test_begin_statement_takes_only_an_integer(bad: object) -> None:
    with pytest.raises(TypeError):
        begin_statement(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [0, -1, 2**31])
def test_begin_statement_refuses_ids_outside_the_database_range(bad: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        begin_statement(bad)


async def test_district_is_set_for_the_transaction_only_and_without_warnings(
    app_conn: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    await add_student(owner_conn, district.id, "4000000004", last_name="Local")
    messages: list[str] = []

    def listen(_conn: object, message: object) -> None:
        messages.append(str(message))

    app_conn.add_log_listener(listen)
    try:
        for readonly in (False, True):
            await app_conn.execute(begin_statement(district.id, readonly=readonly))
            try:
                assert await app_conn.fetchval("SELECT current_setting('app.district_id')") == str(
                    district.id
                )
                assert await app_conn.fetchval("SHOW transaction_read_only") == (
                    "on" if readonly else "off"
                )
                last_name = await app_conn.fetchval(
                    "SELECT last_name FROM students WHERE district_id = $1", district.id
                )
                assert last_name == "Local"
            finally:
                assert await app_conn.execute("COMMIT") == "COMMIT"
            # Gone with the transaction: the next one on this connection starts with none.
            assert await app_conn.fetchval("SELECT current_setting('app.district_id', true)") in (
                "",
                None,
            )
            assert await app_conn.fetchval("SELECT count(*) FROM students") == 0
    finally:
        app_conn.remove_log_listener(listen)
    # No "there is already a transaction in progress", no "SET LOCAL outside a block".
    assert messages == []


async def test_district_row_is_reached_by_its_id_not_by_the_struct(
    database: PgDatabase, owner_conn: asyncpg.Connection
) -> None:
    """A District whose id is not an int (a row read wrongly) never reaches the SQL text."""
    district = await add_district(owner_conn, unique_lea())
    forged = District(
        id="1; SELECT 1",  # type: ignore[arg-type]
        lea_code=district.lea_code,
        name=district.name,
        kind=district.kind,
        status=district.status,
        store=district.store,
    )
    stores = StoreRegistry({"main": database.app_url}, min_size=1, max_size=1)
    await stores.open()
    try:
        with pytest.raises(TypeError):
            async with tenant_transaction(stores, forged):
                pass
    finally:
        await stores.close()
