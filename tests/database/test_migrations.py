"""Migrations: forward-only, recorded with checksums, idempotent, and locked."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import CONTROL, DISTRICT, discover, migrate, pending, sql_root
from gateway.errors import MigrationError
from tests.conftest import PgDatabase


@pytest.fixture
async def scratch(database: PgDatabase, tmp_path: Path) -> tuple[str, Path]:
    """A fresh empty database and a private copy of sql/ that a test may change."""
    name = f"gateway_mig_{tmp_path.name[-8:].lower().replace('-', '_')}"
    urls = (
        await bootstrap(database.superuser_url, [name], password=database.password, fresh=True)
    )[name]
    root = tmp_path / "sql"
    shutil.copytree(sql_root(), root)
    return urls.owner_url, root


async def test_applies_every_file_once_and_twice_changes_nothing(scratch: tuple[str, Path]) -> None:
    url, root = scratch
    first = await migrate(url, [CONTROL, DISTRICT], root)
    expected = len(discover(CONTROL, root)) + len(discover(DISTRICT, root))
    assert len(first) == expected > 0
    conn = await asyncpg.connect(url)
    try:
        before = await conn.fetch(
            "SELECT stream, version, checksum, applied_at"
            " FROM gateway_schema_migrations ORDER BY 1, 2"
        )
        tables_before = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        second = await migrate(url, [CONTROL, DISTRICT], root)
        after = await conn.fetch(
            "SELECT stream, version, checksum, applied_at"
            " FROM gateway_schema_migrations ORDER BY 1, 2"
        )
        tables_after = await conn.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
    finally:
        await conn.close()
    assert second == []
    assert before == after
    assert tables_before == tables_after
    assert await pending(url, [CONTROL, DISTRICT], root) == []


async def test_changed_applied_file_is_refused(scratch: tuple[str, Path]) -> None:
    url, root = scratch
    await migrate(url, [CONTROL, DISTRICT], root)
    applied = discover(DISTRICT, root)[0].path
    applied.write_text(applied.read_text() + "\n-- an innocent-looking edit\n")
    # Also add a new migration: it must not run when the history is wrong.
    new_file = root / DISTRICT / "9999_should_not_run.sql"
    new_file.write_text("CREATE TABLE should_not_exist (x int);")
    with pytest.raises(MigrationError, match="changed after it was applied"):
        await migrate(url, [CONTROL, DISTRICT], root)
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('should_not_exist')") is None
    finally:
        await conn.close()


async def test_failing_file_leaves_nothing_behind(scratch: tuple[str, Path]) -> None:
    url, root = scratch
    await migrate(url, [CONTROL, DISTRICT], root)
    (root / DISTRICT / "9998_broken.sql").write_text(
        "CREATE TABLE half_done (x int);\nSELECT no_such_function();"
    )
    with pytest.raises(MigrationError, match=r"9998_broken\.sql failed"):
        await migrate(url, [CONTROL, DISTRICT], root)
    conn = await asyncpg.connect(url)
    try:
        assert await conn.fetchval("SELECT to_regclass('half_done')") is None
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM gateway_schema_migrations WHERE version = 9998"
            )
            == 0
        )
    finally:
        await conn.close()


async def test_concurrent_runs_apply_each_file_once(scratch: tuple[str, Path]) -> None:
    import asyncio

    url, root = scratch
    results = await asyncio.gather(*(migrate(url, [CONTROL, DISTRICT], root) for _ in range(3)))
    applied = sorted(len(r) for r in results)
    assert applied[:2] == [0, 0]
    assert applied[2] == len(discover(CONTROL, root)) + len(discover(DISTRICT, root))


def test_file_names_are_numbered(tmp_path: Path) -> None:
    (tmp_path / CONTROL).mkdir()
    (tmp_path / CONTROL / "create_things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNNN_name\.sql"):
        discover(CONTROL, tmp_path)
