"""A statewide folder: its bundles by LEA code, and one district's failure left to itself."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import asyncpg
import pytest

from tenants import District, StoreRegistry
from tenants.loading.statewide import Bundle, Options, find_bundles, load_folder
from tenants.loading.template import write_template
from tests.conftest import unique_lea
from tests.factories import add_district
from tests.loading.conftest import OPERATOR, district_state, load, read_rows, write_rows


def test_a_folder_lists_its_bundles_by_lea_code(tmp_path: Path) -> None:
    for name in ("920", "600", "abc12", "x", ".hidden", "330"):
        (tmp_path / name).mkdir()
    for name in ("410.zip", "330.ZIP", "notes.txt", "12.zip", "toolongleacode1.zip"):
        (tmp_path / name).write_bytes(b"")
    found = find_bundles(tmp_path)
    assert sorted(found.bundles, key=lambda b: b.lea_code) == [
        Bundle("410", tmp_path / "410.zip"),
        Bundle("600", tmp_path / "600"),
        Bundle("920", tmp_path / "920"),
        Bundle("ABC12", tmp_path / "abc12"),
    ]
    assert found.doubled == ("330",)  # a folder and a zip: which one is meant?
    assert sorted(found.ignored) == ["12.zip", "notes.txt", "toolongleacode1.zip", "x"]


async def test_jobs_are_bounded(stores: StoreRegistry, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="jobs"):
        await load_folder(stores, _nowhere, find_bundles(tmp_path), OPERATOR, Options(jobs=0))


async def _nowhere(lea: str) -> District | None:
    return None


async def test_a_district_the_database_refuses_fails_alone_and_keeps_its_data(
    stores: StoreRegistry, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    refused, *others = [await add_district(owner_conn, unique_lea()) for _ in range(3)]
    example = tmp_path / "example"
    write_template(example, example=True)
    assert (await load(stores, refused, example)).status == "succeeded"
    before = await district_state(owner_conn, refused.id)

    exports = tmp_path / "exports"
    for district in others:
        shutil.copytree(example, exports / district.lea_code)
    # Valid to the validator, refused by the database: a new student takes the local_id of
    # one this snapshot does not list, whose row stays (UNIQUE (district_id, local_id)).
    folder = exports / refused.lea_code
    shutil.copytree(example, folder)
    dropped = read_rows(example / "students.csv")[0]["student_id"]
    for name in ("students", "course_records", "gpa_summaries", "test_scores", "transcript_holds"):
        rows = read_rows(example / f"{name}.csv")
        for row in rows:
            if row["student_id"] == dropped:
                row["student_id"] = "9000000099"
        write_rows(folder / f"{name}.csv", rows, list(rows[0]))

    by_lea = {d.lea_code: d for d in (refused, *others)}

    async def find(lea: str) -> District | None:
        return by_lea.get(lea)

    done: list[str] = []
    statewide = await load_folder(
        stores,
        find,
        find_bundles(exports),
        OPERATOR,
        Options(jobs=2),
        done=lambda o: done.append(o.lea_code),
    )
    statuses = {o.lea_code: o.status for o in statewide.outcomes}
    assert statuses == {refused.lea_code: "failed", **{d.lea_code: "succeeded" for d in others}}
    assert sorted(done) == sorted(by_lea)
    assert not statewide.ok
    [failed] = [o for o in statewide.outcomes if not o.ok]
    assert failed.message and "local_id" in failed.message
    assert await district_state(owner_conn, refused.id) == before
    for district in others:
        assert len((await district_state(owner_conn, district.id))["students"]) == 3  # type: ignore[arg-type]


async def test_jobs_load_districts_at_the_same_time(
    stores: StoreRegistry, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    """With --jobs 2, a second district starts before the first is done: each district's
    lookup waits until both have begun (were they one after another, it would never end)."""
    districts = [await add_district(owner_conn, unique_lea()) for _ in range(2)]
    exports = tmp_path / "exports"
    for district in districts:
        write_template(exports / district.lea_code, example=True)
    by_lea = {d.lea_code: d for d in districts}
    begun: set[str] = set()
    both = asyncio.Event()

    async def find(lea: str) -> District | None:
        begun.add(lea)
        if len(begun) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), timeout=120)
        return by_lea[lea]

    statewide = await load_folder(stores, find, find_bundles(exports), OPERATOR, Options(jobs=2))
    assert [o.status for o in statewide.outcomes] == ["succeeded", "succeeded"]
