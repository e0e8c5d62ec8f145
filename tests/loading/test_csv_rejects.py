"""Bad bundles write nothing and say where and why: file, line, column, value, reason."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import asyncpg
import pytest

from tenants import District, StoreRegistry
from tenants.loading.problems import LIMIT, Problem
from tests.loading.conftest import district_state, load, read_rows, write_rows


def bad_grade(bundle: Path) -> Path:
    rows = read_rows(bundle / "course_records.csv")
    rows[1]["grade"] = "Z+"
    write_rows(bundle / "course_records.csv", rows)
    return bundle


def missing_required_column(bundle: Path) -> Path:
    rows = read_rows(bundle / "students.csv")
    for row in rows:
        del row["birth_date"]
    write_rows(bundle / "students.csv", rows)
    return bundle


def duplicate_student(bundle: Path) -> Path:
    rows = read_rows(bundle / "students.csv")
    write_rows(bundle / "students.csv", [*rows, {**rows[0], "local_id": "E0099"}])
    return bundle


def course_for_unknown_student(bundle: Path) -> Path:
    rows = read_rows(bundle / "course_records.csv")
    write_rows(bundle / "course_records.csv", [*rows, {**rows[0], "student_id": "9999999999"}])
    return bundle


def row_for_another_district(bundle: Path) -> Path:
    rows = read_rows(bundle / "students.csv")
    for row in rows:
        row["district_id"] = "920"
    write_rows(bundle / "students.csv", rows)
    return bundle


def wrong_encoding(bundle: Path) -> Path:
    text = (bundle / "students.csv").read_text(encoding="utf-8").replace("Avery", "Zoë")
    (bundle / "students.csv").write_bytes(text.encode("latin-1"))
    return bundle


def utf16(bundle: Path) -> Path:
    text = (bundle / "schools.csv").read_text(encoding="utf-8")
    (bundle / "schools.csv").write_bytes(text.encode("utf-16"))
    return bundle


def truncated_zip(bundle: Path) -> Path:
    archive = bundle.parent / "truncated.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted(bundle.iterdir()):
            zf.write(file, file.name)
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    return archive


def extra_column(bundle: Path) -> Path:
    rows = read_rows(bundle / "schools.csv")
    write_rows(bundle / "schools.csv", [{**r, "principal": "Dr. X"} for r in rows])
    return bundle


# (how to spoil the bundle, file, line, column, words of the reason)
CASES: list[tuple[Callable[[Path], Path], str, int | None, str | None, str]] = [
    (bad_grade, "course_records.csv", 3, "grade", "not a grade"),
    (missing_required_column, "students.csv", 1, "birth_date", "missing required column"),
    (duplicate_student, "students.csv", 5, "student_id", "duplicate student (first at line 2)"),
    (course_for_unknown_student, "course_records.csv", 46, "student_id", "unknown student"),
    (row_for_another_district, "students.csv", 2, "district_id", "row for another district"),
    (wrong_encoding, "students.csv", 2, None, "not UTF-8"),
    (utf16, "schools.csv", 1, None, "UTF-16"),
    (truncated_zip, "truncated.zip", None, None, "not a complete zip archive"),
    (extra_column, "schools.csv", 1, "principal", "unknown column"),
]


@pytest.mark.parametrize(
    ("spoil", "file", "line", "column", "reason"), CASES, ids=[c[0].__name__ for c in CASES]
)
async def test_a_bad_bundle_writes_nothing_and_names_file_line_and_reason(
    stores: StoreRegistry,
    district: District,
    bundle: Path,
    tmp_path: Path,
    owner_conn: asyncpg.Connection,
    spoil: Callable[[Path], Path],
    file: str,
    line: int | None,
    column: str | None,
    reason: str,
) -> None:
    # Load a good version first: a bad one must leave it exactly as it was.
    good = tmp_path / "good"
    good.mkdir()
    for f in bundle.iterdir():
        (good / f.name).write_bytes(f.read_bytes())
    for f in (good / "students.csv", good / "course_records.csv"):
        f.write_text(f.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert (await load(stores, district, good)).status == "succeeded"
    before = await district_state(owner_conn, district.id)

    result = await load(stores, district, spoil(bundle))

    assert result.status == "rejected", result.as_dict()
    assert result.problems.count >= 1
    found = [p for p in result.problems.problems if p.file == file and reason in p.reason]
    assert found, [str(p) for p in result.problems.problems]
    assert (found[0].line, found[0].column) == (line, column), found[0]
    assert await district_state(owner_conn, district.id) == before


async def test_every_error_is_reported_up_to_the_limit_and_all_are_counted(
    stores: StoreRegistry, district: District, bundle: Path
) -> None:
    rows = read_rows(bundle / "course_records.csv")
    template = rows[0]
    many = [{**template, "record_id": str(1000 + i), "grade": "Q"} for i in range(LIMIT + 200)]
    write_rows(bundle / "course_records.csv", rows + many)
    result = await load(stores, district, bundle)
    assert result.status == "rejected"
    assert result.problems.count == LIMIT + 200
    assert len(result.problems.problems) == LIMIT
    assert result.problems.problems[0] == Problem(
        "course_records.csv",
        len(rows) + 2,
        "grade",
        "Q",
        "not a grade (A, B+, C-, F, 93, P, W or IP)",
    )
