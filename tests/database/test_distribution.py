"""The district table registry, and what distribution leaves alone on plain PostgreSQL."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from gateway.database.bootstrap import bootstrap
from gateway.database.distribution import in_reference_order
from gateway.database.migrations import CONTROL, DISTRICT, migrate, sql_root
from gateway.errors import MigrationError
from tests.conftest import PgDatabase

# The forced-RLS tables that are district data (the isolation suite's list and any added).
_FORCED_RLS_WITH_DISTRICT_ID = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relforcerowsecurity
   AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid
                AND a.attname = 'district_id' AND NOT a.attisdropped)
 ORDER BY 1
"""


def test_tables_come_after_the_tables_they_reference() -> None:
    references = [
        ("students", "schools"),
        ("course_records", "students"),
        ("course_records", "academic_sessions"),
        ("academic_sessions", "schools"),
        ("students", "districts"),  # outside the list: already satisfied
    ]
    ordered = in_reference_order(
        ["course_records", "students", "academic_sessions", "schools"], references
    )
    for referencing, referenced in references[:-1]:
        assert ordered.index(referenced) < ordered.index(referencing)


def test_a_reference_cycle_is_refused() -> None:
    with pytest.raises(MigrationError, match="cycle"):
        in_reference_order(["a", "b"], [("a", "b"), ("b", "a")])


async def test_registry_lists_exactly_the_district_tables(owner_conn: asyncpg.Connection) -> None:
    registered = [
        r["table_name"]
        for r in await owner_conn.fetch("SELECT table_name FROM gateway_district_tables ORDER BY 1")
    ]
    forced = [r["relname"] for r in await owner_conn.fetch(_FORCED_RLS_WITH_DISTRICT_ID)]
    assert registered == forced
    assert {"students", "disclosures"} <= set(registered)
    assert "districts" not in registered  # control tables never enter it


async def test_disclosure_policies_allow_reading_and_appending_only(
    owner_conn: asyncpg.Connection,
) -> None:
    rows = await owner_conn.fetch(
        "SELECT cmd FROM pg_policies WHERE tablename = 'disclosures' ORDER BY cmd"
    )
    assert [r["cmd"] for r in rows] == ["INSERT", "SELECT"]


@pytest.fixture
async def scratch(database: PgDatabase, tmp_path: Path) -> tuple[str, Path]:
    name = f"gateway_dist_{tmp_path.name[-8:].lower().replace('-', '_')}"
    urls = (
        await bootstrap(database.superuser_url, [name], password=database.password, fresh=True)
    )[name]
    root = tmp_path / "sql"
    shutil.copytree(sql_root(), root)
    return urls.owner_url, root


async def test_a_table_added_by_a_later_district_migration_is_registered(
    scratch: tuple[str, Path],
) -> None:
    url, root = scratch
    await migrate(url, [CONTROL, DISTRICT], root)
    (root / DISTRICT / "9990_counselors.sql").write_text(
        "CREATE TABLE counselors (district_id integer NOT NULL, counselor_id integer NOT NULL,"
        " school_id integer NOT NULL, PRIMARY KEY (district_id, counselor_id),"
        " FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, school_id));\n"
        "ALTER TABLE counselors ENABLE ROW LEVEL SECURITY;\n"
    )
    (root / CONTROL / "9990_operator_notes.sql").write_text(
        "CREATE TABLE operator_notes (district_id integer, note text);\n"
    )
    await migrate(url, [CONTROL, DISTRICT], root)
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT table_name, created_by FROM gateway_district_tables"
            " WHERE table_name IN ('counselors', 'operator_notes')"
        )
        assert [(r["table_name"], r["created_by"]) for r in rows] == [("counselors", 9990)]
        # Plain PostgreSQL: nothing is distributed, the append-only trigger is still there.
        assert await conn.fetchval("SELECT to_regclass('pg_dist_partition')") is None
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM pg_trigger WHERE tgname = 'disclosures_append_only'"
            )
            == 1
        )
    finally:
        await conn.close()
