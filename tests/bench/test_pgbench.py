"""The pgbench floor runs the transcript path's own SQL, as the application role."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import pytest

from bench import database, pgbench
from tenants.queries import transcripts
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_district, add_student

BINARY = pgbench.pgbench_path(database.postgres_bin())


def test_the_script_is_the_gateways_sql() -> None:
    script = pgbench.script()
    # The read and the INSERT are the gateway's statements, only with pgbench variables.
    read = pgbench._bind(transcripts._STUDENT_RECORD, {1: ":district_id", 2: ":student_id"})
    assert read in script
    assert "INSERT INTO disclosures (district_id, student_id, event, channel" in script
    assert "SELECT set_config('app.district_id', :district_id::text, true)" in script
    lines = script.splitlines()
    assert lines.index("\\startpipeline") < lines.index("\\endpipeline") < lines.index("COMMIT;")


@pytest.mark.skipif(BINARY is None, reason="pgbench not found beside the PostgreSQL binaries")
async def test_pgbench_runs_the_transaction_under_row_level_security(
    database: PgDatabase, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    district = await add_district(owner_conn, unique_lea())
    await add_student(owner_conn, district.id, "8000000001")
    await pgbench.fill_picks(database.owner_url, [(district.id, "8000000001")])
    assert BINARY is not None
    spec = pgbench.PgbenchRun(BINARY, database.app_url, connections=2, threads=1)
    try:
        result = await asyncio.to_thread(pgbench.run, spec, 1, 1.0, tmp_path)
    finally:
        # The bench's own table carries district_id without row-level security: it must not
        # stay behind in the suite's database, where the isolation catalog check reads.
        await owner_conn.execute(f"DROP TABLE IF EXISTS {pgbench.PICKS_TABLE}")
    assert result.requests > 0 and result.errors["failed"] == 0
    assert result.latency_us["p50"] <= result.latency_us["p99"]
    # Each transaction wrote its disclosure row, through RLS, as the application role.
    written = await owner_conn.fetchval(
        "SELECT count(*) FROM disclosures WHERE district_id = $1 AND client_id = 'pgbench'",
        district.id,
    )
    assert written >= result.requests
