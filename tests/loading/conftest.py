"""A district to load into, the stores to load through, and bundles to load."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from gateway.audit import Actor
from tenants import District, StoreRegistry
from tenants.loading import LoadRequest, LoadResult, load_district
from tenants.loading.template import write_template
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_district

OPERATOR = Actor("cli", "loader-test")


@pytest.fixture
async def stores(database: PgDatabase) -> AsyncIterator[StoreRegistry]:
    registry = StoreRegistry({"main": database.app_url}, min_size=0, max_size=4)
    await registry.open()
    try:
        yield registry
    finally:
        await registry.close()


@pytest.fixture
async def district(owner_conn: asyncpg.Connection) -> District:
    return await add_district(owner_conn, unique_lea())


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """The example bundle of `gateway data template --example`."""
    folder = tmp_path / "bundle"
    write_template(folder, example=True)
    return folder


async def load(
    stores: StoreRegistry, district: District, path: Path, **options: object
) -> LoadResult:
    return await load_district(stores, district, LoadRequest(path, **options), OPERATOR)  # type: ignore[arg-type]


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


def write_rows(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    columns = header or list(rows[0])
    with open(path, "w", encoding="utf-8", newline="") as stream:
        writer = csv.DictWriter(stream, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


async def district_state(owner: asyncpg.Connection, district_id: int) -> dict[str, object]:
    """Every row of the district's data tables, as comparable values (the owner reads all)."""
    state: dict[str, object] = {}
    for table in (
        "schools",
        "academic_sessions",
        "students",
        "course_records",
        "gpa_summaries",
        "test_scores",
        "transcript_holds",
        "unlisted_students",
        "district_refreshes",
    ):
        rows = await owner.fetch(
            f"SELECT * FROM {table} WHERE district_id = $1 ORDER BY 1, 2, 3",  # noqa: S608
            district_id,
        )
        state[table] = sorted(tuple(map(str, r.values())) for r in rows)
    return state
