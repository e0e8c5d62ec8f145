"""Bulk loading synthetic districts: what the report says is what the application role reads."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from gateway.cli.context import CliState
from gateway.cli.seed import seed_command
from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import DISTRICT, migrate
from gateway.errors import ConfigurationError
from gateway.settings import Settings
from tenants.synthetic.generator import DEMO_LEAS, TABLES, DistrictPlan, Term, district_rows
from tenants.synthetic.seed import DEMO_STUDENTS, SeedReport, seed, seed_demo
from tests.conftest import PgDatabase, unique_lea

TERM = Term(2027, 2)
STUDENTS = 60


def make_plans() -> list[DistrictPlan]:
    """Districts no other test uses; indexes far from the real state plan's."""
    return [
        DistrictPlan(unique_lea(), "Test County Schools", "lea", "Wake", 900, 2),
        DistrictPlan(unique_lea(), "Test City Schools", "lea", "Durham", 901, 1, "Durham"),
        DistrictPlan(unique_lea(), "Test Charter Academy", "charter", "Pitt", 902, 1, "Ayden"),
    ]


async def district_ids(conn: asyncpg.Connection, plans: list[DistrictPlan]) -> dict[str, int]:
    rows = await conn.fetch(
        "SELECT lea_code, district_id FROM districts WHERE lea_code = ANY($1::text[])",
        [p.lea_code for p in plans],
    )
    return {r["lea_code"]: r["district_id"] for r in rows}


async def counts_as_app(database: PgDatabase, district_id: int) -> dict[str, int]:
    """Row counts per table, read the way the gateway reads: app role, tenant transaction."""
    conn = await asyncpg.connect(database.app_url)
    try:
        async with conn.transaction(readonly=True):
            await conn.execute(f"SET LOCAL app.district_id = '{int(district_id):d}'")
            return {
                # Table names come from TABLES, not from input.
                table: await conn.fetchval(
                    f"SELECT count(*) FROM {table} WHERE district_id = $1",  # noqa: S608
                    district_id,
                )
                for table in TABLES
            }
    finally:
        await conn.close()


async def run_seed(settings: Settings, plans: list[DistrictPlan], **kwargs: object) -> SeedReport:
    return await seed(
        settings,
        districts=len(plans),
        students_per_district=STUDENTS,
        seed=3,
        plans=plans,
        term=TERM,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_seed_loads_what_it_reports_and_the_app_role_reads_it(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    plans = make_plans()
    seen: list[tuple[int, int]] = []
    report = await run_seed(
        database.settings(tmp_path), plans, progress=lambda d, t: seen.append((d, t))
    )

    codes = tuple(p.lea_code for p in plans)
    assert report.created == report.loaded == codes and report.skipped == ()
    assert seen == [(0, 3), (1, 3), (2, 3), (3, 3)]
    ids = await district_ids(owner_conn, plans)
    expected = dict.fromkeys(TABLES, 0)
    for plan in plans:
        made = district_rows(
            plan, district_id=ids[plan.lea_code], students=STUDENTS, seed=3, term=TERM
        ).counts()
        assert await counts_as_app(database, ids[plan.lea_code]) == made
        for table, n in made.items():
            expected[table] += n
    assert report.rows == expected
    assert report.rows["students"] == 3 * STUDENTS and report.rows["course_records"] > 0
    kinds = await owner_conn.fetch(
        "SELECT kind, name FROM districts WHERE lea_code = ANY($1::text[]) ORDER BY district_id",
        list(codes),
    )
    assert [(r["kind"], r["name"]) for r in kinds] == [(p.kind, p.name) for p in plans]


async def test_loaded_rows_equal_the_generated_rows(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    plans = make_plans()[:1]
    await run_seed(database.settings(tmp_path), plans)
    district_id = (await district_ids(owner_conn, plans))[plans[0].lea_code]
    made = district_rows(plans[0], district_id=district_id, students=STUDENTS, seed=3, term=TERM)
    for table, rows in made.tables():
        columns = ", ".join(TABLES[table])
        keys = ", ".join(TABLES[table][:3])
        loaded = await owner_conn.fetch(
            f"SELECT {columns} FROM {table} WHERE district_id = $1 ORDER BY {keys}",  # noqa: S608
            district_id,
        )
        assert [tuple(r) for r in loaded] == sorted(rows, key=lambda r: r[:3]), table


async def test_a_second_run_skips_loaded_districts(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    plans = make_plans()
    settings = database.settings(tmp_path)
    await run_seed(settings, plans[:2])
    ids = await district_ids(owner_conn, plans[:2])
    before = {code: await counts_as_app(database, i) for code, i in ids.items()}

    again = await run_seed(settings, plans)

    assert again.skipped == (plans[0].lea_code, plans[1].lea_code)
    assert again.created == again.loaded == (plans[2].lea_code,)
    assert again.rows["students"] == STUDENTS
    assert {code: await counts_as_app(database, i) for code, i in ids.items()} == before
    third = await run_seed(settings, plans)
    assert third.loaded == () and len(third.skipped) == 3
    assert set(third.rows.values()) == {0}


async def test_a_registered_district_without_data_is_loaded(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    plan = make_plans()[0]
    district_id = await owner_conn.fetchval(
        "INSERT INTO districts (lea_code, name) VALUES ($1, 'Registered Earlier')"
        " RETURNING district_id",
        plan.lea_code,
    )
    report = await run_seed(database.settings(tmp_path), [plan])
    assert report.created == () and report.loaded == (plan.lea_code,)
    assert (await counts_as_app(database, district_id))["students"] == STUDENTS
    # The operator's name for it is kept.
    name = await owner_conn.fetchval(
        "SELECT name FROM districts WHERE district_id = $1", district_id
    )
    assert name == "Registered Earlier"


async def test_seeding_is_refused_in_production(database: PgDatabase, tmp_path: Path) -> None:
    settings = database.settings(tmp_path, env="production")
    with pytest.raises(ConfigurationError, match="production"):
        await run_seed(settings, make_plans()[:1])


async def test_seeding_is_audited(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    plans = make_plans()[:1]
    await run_seed(database.settings(tmp_path), plans)
    events = await owner_conn.fetch(
        "SELECT action, target, detail FROM audit_log WHERE target = $1 OR (action = "
        "'district.seed' AND occurred_at > now() - interval '1 minute') ORDER BY audit_id",
        plans[0].lea_code,
    )
    actions = [e["action"] for e in events]
    assert "district.add" in actions and actions[-1] == "district.seed"
    detail = json.loads(events[-1]["detail"])
    assert detail["districts_loaded"] >= 1 and detail["rows"]["students"] >= STUDENTS


async def test_a_process_pool_loads_the_same_rows(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    plans = make_plans()[:2]
    report = await run_seed(database.settings(tmp_path), plans, workers=1)
    ids = await district_ids(owner_conn, plans)
    for plan in plans:
        made = district_rows(
            plan, district_id=ids[plan.lea_code], students=STUDENTS, seed=3, term=TERM
        )
        assert await counts_as_app(database, ids[plan.lea_code]) == made.counts()
    assert report.rows["students"] == 2 * STUDENTS


@pytest.fixture
async def scratch(database: PgDatabase, tmp_path: Path) -> AsyncIterator[Settings]:
    """A fresh, empty (not even migrated) database, for what uses the real LEA codes."""
    name = f"gateway_seed_{secrets.token_hex(4)}"
    urls = (
        await bootstrap(database.superuser_url, [name], password=database.password, fresh=True)
    )[name]
    settings = database.settings(tmp_path).with_database(urls.app_url, urls.owner_url)
    yield settings
    conn = await asyncpg.connect(database.superuser_url)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


async def test_rows_go_to_the_store_the_district_names(
    database: PgDatabase, owner_conn: asyncpg.Connection, scratch: Settings, tmp_path: Path
) -> None:
    east_owner = str(scratch.migration_database_url)
    await migrate(east_owner, [DISTRICT])
    settings = database.settings(tmp_path).with_database(
        database.app_url,
        database.owner_url,
        stores={"east": str(scratch.database_url)},
        migration_stores={"east": east_owner},
    )
    plan = make_plans()[2]
    district_id = await owner_conn.fetchval(
        "INSERT INTO districts (lea_code, name, kind, store) VALUES ($1, $2, 'charter', 'east')"
        " RETURNING district_id",
        plan.lea_code,
        plan.name,
    )
    report = await run_seed(settings, [plan])
    assert report.loaded == (plan.lea_code,)
    east = await asyncpg.connect(east_owner)
    try:
        on_east = await east.fetchval(
            "SELECT count(*) FROM students WHERE district_id = $1", district_id
        )
    finally:
        await east.close()
    assert on_east == STUDENTS
    assert (await counts_as_app(database, district_id))["students"] == 0  # not on main
    again = await run_seed(settings, [plan])
    assert again.skipped == (plan.lea_code,)


async def test_demo_districts_and_their_sample_students(scratch: Settings) -> None:
    from gateway.cli.migrate import migrate_all

    await migrate_all(scratch)
    first = await seed_demo(scratch)

    assert [d.lea_code for d in first] == list(DEMO_LEAS)
    assert all(d.students == DEMO_STUDENTS for d in first)
    conn = await asyncpg.connect(str(scratch.migration_database_url))
    try:
        for district in first:
            assert len(district.sample_students) == 3
            for sample in district.sample_students:
                row = await conn.fetchrow(
                    "SELECT s.birth_date, s.last_name, s.grade_level,"
                    " (SELECT count(*) FROM transcript_holds h WHERE h.district_id ="
                    "  s.district_id AND h.student_id = s.student_id AND h.released_at IS NULL)"
                    "  AS holds,"
                    " (SELECT count(*) FROM course_records c WHERE c.district_id = s.district_id"
                    "  AND c.student_id = s.student_id AND c.grade <> 'IP') AS completed"
                    " FROM students s WHERE s.district_id = $1 AND s.student_id = $2",
                    district.district_id,
                    sample["student_id"],
                )
                assert row is not None
                assert date.fromisoformat(sample["birth_date"]) == row["birth_date"]
                assert sample["last_name"] == row["last_name"]
                assert row["holds"] == 0 and row["completed"] > 0 and row["grade_level"] == 12
    finally:
        await conn.close()

    again = await seed_demo(scratch)  # a restart of `gateway dev`: nothing new, same answers
    assert again == first


async def test_cli_migrates_seeds_and_reports_json(scratch: Settings) -> None:
    runner = CliRunner()
    args = ["--districts", "2", "--students", "40", "--seed", "9", "--as-of", "2027-03-01"]

    def invoke(*extra: str) -> dict[str, object]:
        result = runner.invoke(
            seed_command, [*args, *extra], obj=CliState.of(scratch), catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        data: dict[str, object] = json.loads(result.stdout)
        return data

    first = await asyncio.to_thread(invoke, "--json")
    assert first["districts_loaded"] == 2 and first["school_year"] == 2027
    assert first["semester"] == 2
    assert first["rows"]["students"] == 80  # type: ignore[index]
    again = await asyncio.to_thread(invoke, "--json")
    assert again["districts_skipped"] == 2 and again["total_rows"] == 0

    table = await asyncio.to_thread(
        runner.invoke, seed_command, args, obj=CliState.of(scratch), catch_exceptions=False
    )
    assert "Rows loaded" in table.stdout and "already had data" in table.stdout
