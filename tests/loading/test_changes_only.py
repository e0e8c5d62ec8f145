"""A re-load writes only what changed: new rows inserted, changed rows updated, vanished rows
deleted, and every other row left as it was (the same row version, `xmin`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg

from tenants import District, StoreRegistry
from tests.conftest import unique_lea
from tests.factories import add_district
from tests.loading.conftest import district_state, load, read_rows, write_rows

FIRST = "9000000001"


async def _versions(owner: asyncpg.Connection, district_id: int) -> dict[tuple[str, str], str]:
    """(student, record) -> the row version of each course record."""
    rows = await owner.fetch(
        "SELECT student_id, record_id::text, xmin::text FROM course_records WHERE district_id = $1",
        district_id,
    )
    return {(r["student_id"], r["record_id"]): r["xmin"] for r in rows}


async def test_a_reload_rewrites_only_the_rows_that_changed(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    first = await load(stores, district, bundle)
    assert first.status == "succeeded"
    assert first.counts["rows_written"]["course_records"] == first.counts["rows"]["course_records"]
    before = await _versions(owner_conn, district.id)

    second = tmp_path / "second"
    shutil.copytree(bundle, second)
    courses = read_rows(second / "course_records.csv")
    changed, dropped = courses[0], courses[1]
    changed["grade"] = "C" if changed["grade"] != "C" else "B"
    added = {**courses[2], "record_id": "99", "course_code": "99999X0", "title": "Added Course"}
    write_rows(second / "course_records.csv", [changed, *courses[2:], added])
    gpas = read_rows(second / "gpa_summaries.csv")
    # The same number with another scale is another value: a GPA renders as it was sent.
    gpas[0]["gpa_weighted"] = gpas[0]["gpa_weighted"] + "0"
    write_rows(second / "gpa_summaries.csv", gpas)

    result = await load(stores, district, second)
    assert result.status == "succeeded", result.as_dict()
    assert result.counts["rows_written"] == {
        "schools": 0,
        "academic_sessions": 0,
        "students": 0,
        "course_records": 2,  # the changed grade and the added course
        "gpa_summaries": 1,
        "test_scores": 0,
        "transcript_holds": 0,
    }
    assert result.counts["rows_deleted"]["course_records"] == 1

    after = await _versions(owner_conn, district.id)
    key = (changed["student_id"], changed["record_id"])
    assert (dropped["student_id"], dropped["record_id"]) not in after
    assert after[key] != before[key]
    untouched = set(before) - {key, (dropped["student_id"], dropped["record_id"])}
    assert untouched and all(after[k] == before[k] for k in untouched)
    grade = await owner_conn.fetchval(
        "SELECT grade FROM course_records WHERE district_id = $1 AND student_id = $2"
        " AND record_id = $3",
        district.id,
        changed["student_id"],
        int(changed["record_id"]),
    )
    assert grade == changed["grade"]
    gpa = await owner_conn.fetchval(
        "SELECT gpa_weighted::text FROM gpa_summaries WHERE district_id = $1 AND student_id = $2",
        district.id,
        gpas[0]["student_id"],
    )
    assert gpa == gpas[0]["gpa_weighted"]


async def test_what_a_change_only_reload_leaves_equals_a_fresh_load(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    """Loading A then B leaves the same rows as loading B alone (into a fresh district)."""
    second = tmp_path / "second"
    shutil.copytree(bundle, second)
    courses = read_rows(second / "course_records.csv")
    write_rows(second / "course_records.csv", [r for r in courses if r["student_id"] != FIRST])
    scores = read_rows(second / "test_scores.csv")
    for row in scores:
        row["score"] = str(int(row["score"]) - 1)
    write_rows(second / "test_scores.csv", scores)

    assert (await load(stores, district, bundle)).status == "succeeded"
    assert (await load(stores, district, second)).status == "succeeded"
    fresh = await add_district(owner_conn, unique_lea())
    assert (await load(stores, fresh, second)).status == "succeeded"

    def comparable(state: dict[str, object]) -> dict[str, list[tuple[str, ...]]]:
        """Each table's rows without their first column (district_id, the one difference)."""
        skip = {"unlisted_students", "district_refreshes"}
        rows: dict[str, list[tuple[str, ...]]] = {}
        for table, found in state.items():
            if table not in skip:
                assert isinstance(found, list)
                rows[table] = [tuple(row[1:]) for row in found]
        return rows

    reloaded = comparable(await district_state(owner_conn, district.id))
    loaded_fresh = comparable(await district_state(owner_conn, fresh.id))
    assert reloaded == loaded_fresh
    assert reloaded["course_records"], "the comparison compared rows"
