"""`python -m bench.loads` runs through `gateway data load-all`'s code and reports what it says;
its figures are read, never asserted (the machine may be busy)."""

from __future__ import annotations

import asyncio
import csv
import json
import os
from pathlib import Path

import asyncpg

from bench import loads
from bench.rss import Sampler, children_of, cpu_seconds, parent_of
from tests.conftest import PgDatabase


def test_change_grades_changes_every_hundredth_course(tmp_path: Path) -> None:
    rows = [{"student_id": str(n), "grade": "A"} for n in range(250)]
    with open(tmp_path / "course_records.csv", "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, ["student_id", "grade"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    assert loads.change_grades(tmp_path) == 3
    with open(tmp_path / "course_records.csv", encoding="utf-8", newline="") as stream:
        grades = [r["grade"] for r in csv.DictReader(stream)]
    assert [n for n, g in enumerate(grades) if g != "A"] == [0, 100, 200]


async def test_the_sampler_sees_this_process_and_the_postgres_server(
    database: PgDatabase,
) -> None:
    conn = await asyncpg.connect(database.app_url)
    try:
        backend = int(await conn.fetchval("SELECT pg_backend_pid()"))
        postmaster = parent_of(backend)
        assert postmaster is not None and backend in children_of(postmaster)
        with Sampler(postmaster, interval=0.01) as sampler:
            await conn.fetchval("SELECT count(*) FROM generate_series(1, 200000)")
    finally:
        await conn.close()
    assert sampler.peaks.loader_mib > 10
    assert sampler.peaks.postgres_mib > sampler.peaks.postgres_backend_mib > 0
    assert sampler.peaks.postgres_cpu_seconds >= 0 and cpu_seconds(os.getpid()) > 0


async def test_the_bench_loads_a_small_state_and_reports_it(tmp_path: Path) -> None:
    report_path = tmp_path / "report.json"
    # The README's small example, in a folder of the test's.
    argv = ["--districts", "2", "--students", "20", "--json", str(report_path)]
    assert await asyncio.to_thread(loads.main, [*argv, "--home", str(tmp_path)]) == 0
    report = json.loads(report_path.read_text(encoding="utf-8"))
    first, again, state = report["runs"]
    assert (first["students"], first["statuses"]) == (1000, {"succeeded": 1})
    # The re-load changed 1% of the grades, and wrote those rows only.
    assert again["rows_written"] == report["changed_course_records"] > 0
    assert (state["districts"], state["students"], state["jobs"]) == (2, 40, 2)
    assert state["rows"] > state["students"] and state["peak_rss_postgres_mib"] > 0
    assert "| 2 x 20 | 2 | 40 |" in loads.markdown(report)
