"""A district's system may number its sessions anew between two exports: the load matches
them to the stored sessions by school, year and term, and keeps the stored numbers."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg

from tenants import District, StoreRegistry
from tenants.loading.sessions import renumbering
from tests.loading.conftest import district_state, load, read_rows, write_rows

FALL = (1, 2021, "Semester1")
SPRING = (1, 2021, "Semester2")
SUMMER = (1, 2021, "Summer")


def test_the_same_numbers_rename_nothing() -> None:
    assert renumbering({FALL: 1, SPRING: 2}, {1: FALL, 2: SPRING}) == {}
    assert renumbering({}, {1: FALL}) == {}
    assert renumbering({FALL: 1}, {}) == {}


def test_new_numbers_for_stored_sessions_become_the_stored_ones() -> None:
    assert renumbering({FALL: 1, SPRING: 2}, {1001: FALL, 1002: SPRING}) == {1001: 1, 1002: 2}


def test_two_sessions_that_swapped_numbers_swap_back() -> None:
    assert renumbering({FALL: 1, SPRING: 2}, {2: FALL, 1: SPRING}) == {2: 1, 1: 2}


def test_a_new_session_on_a_number_in_use_gets_one_past_every_number() -> None:
    # 2 is the store's Spring; the load calls Spring 7 and uses 2 for a new Summer.
    assert renumbering({FALL: 1, SPRING: 2}, {1: FALL, 7: SPRING, 2: SUMMER}) == {7: 2, 2: 8}
    # A free number is kept, and later fresh numbers pass it.
    assert renumbering({FALL: 1}, {5: SUMMER, 1: FALL}) == {}


def _renumber(folder: Path, shift: dict[str, str]) -> None:
    for name in ("academic_sessions.csv", "course_records.csv"):
        rows = read_rows(folder / name)
        for row in rows:
            row["session_id"] = shift.get(row["session_id"], row["session_id"])
        write_rows(folder / name, rows)


async def _courses_by_term(owner: asyncpg.Connection, district_id: int) -> list[tuple[str, ...]]:
    """Each course record with what its session is (school, year, term), not its number."""
    rows = await owner.fetch(
        "SELECT c.student_id, c.record_id, a.school_id, a.school_year, a.term, a.name"
        " FROM course_records c JOIN academic_sessions a"
        " ON a.district_id = c.district_id AND a.session_id = c.session_id"
        " WHERE c.district_id = $1 AND a.district_id = $1 ORDER BY 1, 2",
        district_id,
    )
    return [tuple(map(str, r.values())) for r in rows]


async def test_a_renumbered_export_loads_and_changes_nothing(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    first = await load(stores, district, bundle)
    assert first.status == "succeeded"
    assert first.counts["sessions_renumbered"] == 0
    before = await district_state(owner_conn, district.id)

    second = tmp_path / "second"
    shutil.copytree(bundle, second)
    numbers = [r["session_id"] for r in read_rows(second / "academic_sessions.csv")]
    _renumber(second, {n: str(int(n) + 1000) for n in numbers})

    result = await load(stores, district, second)
    assert result.status == "succeeded", result.message
    assert result.counts["sessions_renumbered"] == len(numbers)
    assert set(result.counts["rows_written"].values()) == {0}
    assert set(result.counts["rows_deleted"].values()) == {0}
    after = await district_state(owner_conn, district.id)
    for table in before:
        if table != "district_refreshes":
            assert after[table] == before[table], table


async def test_students_outside_a_merge_keep_their_sessions_when_numbers_swap(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    assert (await load(stores, district, bundle)).status == "succeeded"
    before = await _courses_by_term(owner_conn, district.id)

    # A merge of one student, from a system that swapped the numbers of two sessions.
    delta = tmp_path / "delta"
    shutil.copytree(bundle, delta)
    first_student = read_rows(delta / "students.csv")[0]["student_id"]
    for name in ("students.csv", "course_records.csv", "gpa_summaries.csv", "test_scores.csv",
                 "transcript_holds.csv"):  # fmt: skip
        rows = read_rows(delta / name)
        header = list(rows[0]) if rows else None
        write_rows(delta / name, [r for r in rows if r["student_id"] == first_student], header)
    a, b = (r["session_id"] for r in read_rows(delta / "academic_sessions.csv")[:2])
    _renumber(delta, {a: b, b: a})

    result = await load(stores, district, delta, merge=True)
    assert result.status == "succeeded", result.message
    assert result.counts["sessions_renumbered"] == 2
    # Every course record, of the student loaded and of the others, is in the same term as
    # before: the swap was read as two names, not as two sessions changing their terms.
    assert await _courses_by_term(owner_conn, district.id) == before


async def test_a_new_term_on_a_number_the_store_uses_gets_a_number_of_its_own(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
) -> None:
    assert (await load(stores, district, bundle)).status == "succeeded"
    before = await _courses_by_term(owner_conn, district.id)
    sessions = read_rows(bundle / "academic_sessions.csv")
    reused = sessions[0]  # its number now names a new summer session in the export

    second = tmp_path / "second"
    shutil.copytree(bundle, second)
    top = max(int(s["session_id"]) for s in sessions)
    moved = str(top + 50)
    rows = read_rows(second / "academic_sessions.csv")
    rows[0]["session_id"] = moved
    summer = {**reused, "term": "Summer", "name": "Summer 2021", "begin_date": "2021-06-20",
              "end_date": "2021-07-30"}  # fmt: skip
    write_rows(second / "academic_sessions.csv", [*rows, summer])
    courses = read_rows(second / "course_records.csv")
    for course in courses:
        if course["session_id"] == reused["session_id"]:
            course["session_id"] = moved
    summer_course = {**courses[0], "record_id": "77", "session_id": reused["session_id"],
                     "course_code": "77777X0", "title": "Summer Reading"}  # fmt: skip
    write_rows(second / "course_records.csv", [*courses, summer_course])

    result = await load(stores, district, second)
    assert result.status == "succeeded", result.message
    assert result.counts["sessions_renumbered"] == 2  # the moved one back, the summer one on
    stored = await owner_conn.fetchrow(
        "SELECT term, name FROM academic_sessions WHERE district_id = $1 AND session_id = $2",
        district.id,
        int(reused["session_id"]),
    )
    assert (stored["term"], stored["name"]) == (reused["term"], reused["name"])
    summer_number = await owner_conn.fetchval(
        "SELECT session_id FROM academic_sessions WHERE district_id = $1 AND term = 'Summer'",
        district.id,
    )
    assert summer_number == top + 50 + 1  # past every number in use, the export's included
    after = await _courses_by_term(owner_conn, district.id)
    added = [c for c in after if c not in before]
    assert len(added) == 1 and added[0][1] == "77" and added[0][4] == "Summer"
    assert [c for c in after if c[1] != "77"] == before
