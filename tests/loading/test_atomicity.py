"""A load is one transaction: killed, it leaves the old data whole; read during, never a mix;
and the database itself refuses rows of another district, whatever the loader's code does."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from tenants import District, StoreRegistry, tenant_transaction
from tenants.loading import LoadRequest, load_district, replace
from tenants.loading.columns import BY_NAME
from tenants.loading.staging import staging
from tenants.loading.template import example_rows
from tests.conftest import PgDatabase
from tests.loading.conftest import OPERATOR, district_state, read_rows, write_rows


def second_version(bundle: Path, tmp_path: Path) -> Path:
    """The bundle with every student's courses cut to two: easy to tell from the first."""
    second = tmp_path / "second"
    shutil.copytree(bundle, second)
    rows = read_rows(second / "course_records.csv")
    kept: dict[str, int] = {}
    cut = []
    for row in rows:
        kept[row["student_id"]] = kept.get(row["student_id"], 0) + 1
        if kept[row["student_id"]] <= 2:
            cut.append(row)
    write_rows(second / "course_records.csv", cut)
    return second


async def course_count(stores: StoreRegistry, district: District) -> int:
    async with tenant_transaction(stores, district, readonly=True) as tx:
        return int(
            await tx.fetchval(
                "SELECT count(*) FROM course_records WHERE district_id = $1", district.id
            )
        )


async def test_a_load_whose_backend_is_killed_leaves_the_old_data_whole(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
    database: PgDatabase,
) -> None:
    assert (await load_district(stores, district, LoadRequest(bundle), OPERATOR)).ok
    before = await district_state(owner_conn, district.id)
    killed: list[int] = []

    async def kill(step: str, pid: int) -> None:
        # Mid-apply: the new course records are in, the rest not yet.
        if step == "replace gpa_summaries" and not killed:
            superuser = await asyncpg.connect(database.superuser_url)
            try:
                assert await superuser.fetchval("SELECT pg_terminate_backend($1::integer)", pid)
            finally:
                await superuser.close()
            killed.append(pid)

    result = await load_district(
        stores, district, LoadRequest(second_version(bundle, tmp_path)), OPERATOR, observe=kill
    )
    assert killed
    assert result.status == "failed", result.as_dict()
    assert "nothing was written" in (result.message or "")
    assert await district_state(owner_conn, district.id) == before
    async with stores.control.acquire() as control:
        status = await control.fetchval(
            "SELECT status FROM district_loads WHERE load_id = $1", result.load_id
        )
    assert status == "failed"


async def test_concurrent_transcript_reads_see_the_old_data_or_the_new_never_a_mix(
    stores: StoreRegistry, district: District, bundle: Path, tmp_path: Path
) -> None:
    assert (await load_district(stores, district, LoadRequest(bundle), OPERATOR)).ok
    old = await course_count(stores, district)
    second = second_version(bundle, tmp_path)
    new = len(read_rows(second / "course_records.csv"))
    assert new < old
    seen_during: list[int] = []

    async def hold_before_commit(step: str, pid: int) -> None:
        if step == "commit":
            # Everything is written but not committed: readers must still see the old data.
            for _ in range(5):
                seen_during.append(await course_count(stores, district))

    result = await load_district(
        stores, district, LoadRequest(second), OPERATOR, observe=hold_before_commit
    )
    assert result.status == "succeeded"
    assert seen_during == [old] * 5
    assert await course_count(stores, district) == new


async def test_readers_running_throughout_a_load_see_only_whole_versions(
    stores: StoreRegistry, district: District, bundle: Path, tmp_path: Path
) -> None:
    assert (await load_district(stores, district, LoadRequest(bundle), OPERATOR)).ok
    old = await course_count(stores, district)
    second = second_version(bundle, tmp_path)
    new = len(read_rows(second / "course_records.csv"))
    done = asyncio.Event()
    seen: set[int] = set()
    steps = 0

    async def reader() -> None:
        while not done.is_set():
            seen.add(await course_count(stores, district))
            await asyncio.sleep(0)

    async def yield_to_reader(step: str, pid: int) -> None:
        nonlocal steps
        steps += 1
        await asyncio.sleep(0.01)

    task = asyncio.create_task(reader())
    try:
        result = await load_district(
            stores, district, LoadRequest(second), OPERATOR, observe=yield_to_reader
        )
    finally:
        done.set()
        await task
    assert result.ok and steps > 10
    assert seen <= {old, new}
    assert old in seen


async def test_the_database_refuses_a_row_of_another_district_even_past_the_validator(
    stores: StoreRegistry, district: District, owner_conn: asyncpg.Connection
) -> None:
    other = district.id + 100_000  # a district id no transaction of this load may write
    school = example_rows()["schools"][0]
    with staging() as staged:
        staged.write("schools", str(other), school)
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
            async with tenant_transaction(stores, district) as tx:
                await replace.take_ingest_role(tx)
                await replace.apply(
                    tx, staged, load_id=OPERATOR_LOAD, source_sha256="0" * 64, merge=True
                )
    assert (
        await owner_conn.fetchval("SELECT count(*) FROM schools WHERE district_id = $1", other) == 0
    )
    assert BY_NAME["schools"].header[0] == "school_id"


async def test_the_ingest_role_cannot_touch_disclosures_or_bypass_row_level_security(
    stores: StoreRegistry, district: District, owner_conn: asyncpg.Connection
) -> None:
    role = await owner_conn.fetchrow(
        "SELECT rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = 'gateway_ingest'"
    )
    assert role is not None and (role["rolbypassrls"], role["rolcanlogin"]) == (False, False)
    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with tenant_transaction(stores, district) as tx:
            await replace.take_ingest_role(tx)
            await tx.execute("DELETE FROM disclosures WHERE district_id = $1", district.id)


OPERATOR_LOAD = __import__("uuid").UUID(int=1)
