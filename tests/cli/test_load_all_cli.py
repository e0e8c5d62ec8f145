"""`gateway data load-all`: a statewide folder, one bundle per district, as its --help shows."""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import asyncpg

from tenants.loading.template import write_template
from tests.cli.conftest import Invoke, as_json
from tests.conftest import unique_lea
from tests.loading.conftest import read_rows, write_rows


def _zip(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(folder.iterdir()):
            zf.write(file, file.name)


def _bad_grade(folder: Path) -> None:
    rows = read_rows(folder / "course_records.csv")
    rows[1]["grade"] = "Z"
    write_rows(folder / "course_records.csv", rows)


async def test_a_statewide_folder_loads_every_district_and_reports_each(
    gateway_cli: Invoke, tmp_path: Path, owner_conn: asyncpg.Connection
) -> None:
    good, bad, zipped, unknown = (unique_lea() for _ in range(4))
    for lea in (good, bad, zipped):
        await gateway_cli("district", "add", "--lea", lea, "--name", f"District {lea}")
    exports = tmp_path / "exports"
    for lea in (good, bad, unknown):
        write_template(exports / lea, example=True)
    _bad_grade(exports / bad)
    write_template(tmp_path / "zipped", example=True)
    _zip(tmp_path / "zipped", exports / f"{zipped}.zip")
    (exports / "README.txt").write_text("not a district\n", encoding="utf-8")

    # The --help example: four at a time, a JSON report.
    first = await gateway_cli("data", "load-all", str(exports), "--jobs", "4", "--json", ok=False)
    assert first.exit_code == 1, first.output
    report = as_json(first)
    by_lea = {d["district"]: d for d in report["districts"]}
    assert {lea: d["status"] for lea, d in by_lea.items()} == {
        good: "succeeded",
        bad: "rejected",
        zipped: "succeeded",
        unknown: "rejected",
    }
    assert by_lea[zipped]["source"] == f"{zipped}.zip" and by_lea[zipped]["students"] == 3
    assert by_lea[unknown]["message"] == f"no district {unknown}"
    [error] = by_lea[bad]["errors"]
    assert (error["file"], error["line"], error["column"]) == ("course_records.csv", 3, "grade")
    summary = report["summary"]
    assert summary["students_loaded"] == 6 and summary["ignored"] == ["README.txt"]
    assert summary["statuses"] == {"rejected": 2, "succeeded": 2}

    students = await owner_conn.fetch(
        "SELECT d.lea_code, count(s.student_id) AS n FROM districts d"
        " LEFT JOIN students s USING (district_id) WHERE d.lea_code = ANY($1) GROUP BY 1",
        [good, bad, zipped],
    )
    assert {r["lea_code"]: r["n"] for r in students} == {good: 3, bad: 0, zipped: 3}
    recorded = await owner_conn.fetch(
        "SELECT d.lea_code, l.status FROM district_loads l JOIN districts d USING (district_id)"
        " WHERE d.lea_code = ANY($1)",
        [good, bad, zipped],
    )
    assert sorted(map(tuple, recorded)) == sorted(
        [(good, "succeeded"), (bad, "rejected"), (zipped, "succeeded")]
    )

    # The first --help example, for people: the same folder again, the loaded ones unchanged.
    shutil.rmtree(exports / unknown)
    again = await gateway_cli("data", "load-all", str(exports), ok=False)
    assert again.exit_code == 1
    assert again.stdout.count("unchanged") >= 2 and "rejected" in again.stdout
    assert f"Not loaded: {bad}." in again.stdout

    # Fixed, the nightly merge of the third example loads all three: exit status 0.
    write_template(tmp_path / "fixed", example=True)
    shutil.rmtree(exports / bad)
    shutil.copytree(tmp_path / "fixed", exports / bad)
    nightly = await gateway_cli("data", "load-all", str(exports), "--mode", "merge")
    assert re.search(r"^succeeded\s+3$", nightly.stdout, re.MULTILINE), nightly.stdout
    assert re.search(r"^students loaded\s+9$", nightly.stdout, re.MULTILINE)
    assert "Not loaded" not in nightly.stdout


async def test_load_all_help_teaches_the_folder_and_the_exit_status(gateway_cli: Invoke) -> None:
    shown = (await gateway_cli("data", "load-all", "--help")).stdout
    for words in ("exports/920/", "exports/920.zip", "--jobs", "Exit status", "ignored"):
        assert words in shown
    assert json.dumps("gateway data load-all exports/ --jobs 4 --json")[1:-1] in shown
