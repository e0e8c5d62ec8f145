"""`gateway migrate` on a coordinator: a district table added later is distributed too."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import shutil
from pathlib import Path

import asyncpg
import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import CONTROL, DISTRICT, migrate, sql_root
from gateway.errors import MigrationError
from tests.citus_cluster import fresh_database
from tests.conftest import SESSION_MASTER_KEYS

pytestmark = pytest.mark.citus

SCRATCH = "gateway_citus_migrate"

# A district table as a later migration would add it: district_id leading its keys, a
# foreign key to a distributed table, row-level security forced, a policy, a grant.
COUNSELORS = """
CREATE TABLE counselors (
    district_id  integer NOT NULL,
    counselor_id integer NOT NULL,
    school_id    integer NOT NULL,
    name         text    NOT NULL,
    PRIMARY KEY (district_id, counselor_id),
    FOREIGN KEY (district_id, school_id) REFERENCES schools (district_id, school_id)
);
ALTER TABLE counselors ENABLE ROW LEVEL SECURITY;
ALTER TABLE counselors FORCE ROW LEVEL SECURITY;
CREATE POLICY district_isolation ON counselors
    USING (district_id = gateway_current_district())
    WITH CHECK (district_id = gateway_current_district());
GRANT SELECT ON counselors TO gateway_app;
ALTER TABLE students ADD COLUMN counselor_id integer;
"""


@pytest.fixture
async def scratch(citus_url: str, tmp_path: Path) -> tuple[str, str, Path]:
    """A fresh cluster database, bootstrapped, and a private copy of sql/."""
    url = await fresh_database(citus_url, SCRATCH)
    urls = (await bootstrap(url, [SCRATCH], password=secrets.token_urlsafe(12)))[SCRATCH]
    root = tmp_path / "sql"
    shutil.copytree(sql_root(), root)
    return url, urls.owner_url, root


async def distributed(url: str) -> dict[str, int]:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT logicalrelid::text AS name, colocationid FROM pg_dist_partition"
        )
    finally:
        await conn.close()
    return {r["name"]: r["colocationid"] for r in rows}


async def test_a_later_district_table_is_distributed_co_located(
    scratch: tuple[str, str, Path],
) -> None:
    _, owner_url, root = scratch
    await migrate(owner_url, [CONTROL, DISTRICT], root)
    before = await distributed(owner_url)
    assert "students" in before and "districts" not in before
    (root / DISTRICT / "9990_counselors.sql").write_text(COUNSELORS)
    applied = await migrate(owner_url, [CONTROL, DISTRICT], root)
    assert [(a.stream, a.version) for a in applied] == [(DISTRICT, 9990)]
    after = await distributed(owner_url)
    assert after["counselors"] == after["students"]  # one co-location group
    assert await migrate(owner_url, [CONTROL, DISTRICT], root) == []


async def test_a_trigger_on_a_new_district_table_stops_the_migration(
    scratch: tuple[str, str, Path],
) -> None:
    _, owner_url, root = scratch
    await migrate(owner_url, [CONTROL, DISTRICT], root)
    (root / DISTRICT / "9991_audited.sql").write_text(
        "CREATE TABLE audited (district_id integer NOT NULL, x integer,"
        " PRIMARY KEY (district_id));\n"
        "CREATE FUNCTION audited_touch() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RETURN NEW; END $$;\n"
        "CREATE TRIGGER audited_touch BEFORE INSERT ON audited"
        " FOR EACH ROW EXECUTE FUNCTION audited_touch();\n"
    )
    with pytest.raises(MigrationError, match="trigger 'audited_touch'"):
        await migrate(owner_url, [CONTROL, DISTRICT], root)
    conn = await asyncpg.connect(owner_url)
    try:
        # The whole file rolled back with its distribution: nothing half-done is left.
        assert await conn.fetchval("SELECT to_regclass('audited')") is None
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM gateway_schema_migrations WHERE version = 9991"
            )
            == 0
        )
    finally:
        await conn.close()


async def test_gateway_migrate_reports_the_distribution(scratch: tuple[str, str, Path]) -> None:
    _, owner_url, _ = scratch
    key = SESSION_MASTER_KEYS[0]
    env = {
        "GATEWAY_DATABASE_URL": owner_url.replace("gateway_owner", "gateway_app"),
        "GATEWAY_MIGRATION_DATABASE_URL": owner_url,
        "GATEWAY_MASTER_KEY": f"{key.kid}:{base64.urlsafe_b64encode(key.key).decode()}",
        "GATEWAY_ENV": "test",
    }
    runner = CliRunner()
    first = await asyncio.to_thread(runner.invoke, cli, ["migrate", "--json"], env=env)
    assert first.exit_code == 0, first.output
    report = json.loads(first.stdout)
    assert {"stream": "district", "version": 1} in [
        {"stream": r["stream"], "version": r["version"]} for r in report["applied"]
    ]
    assert "students" in report["citus"]["main"]["distributed"]
    assert "districts" not in report["citus"]["main"]["distributed"]
    again = await asyncio.to_thread(runner.invoke, cli, ["migrate"], env=env)
    assert again.exit_code == 0, again.output
    assert "Already up to date." in again.output
    assert "district tables distributed by district_id" in again.output
