"""The record of loads stays true: a load whose process died is recorded as failed, not left
'running' forever; a live one is never taken for dead; old error lists (which may quote
student values) are emptied after the retention, their counts kept."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx

from gateway.control import district_loads
from tenants import District, StoreRegistry
from tenants.loading import LoadRequest, start_load
from tests.conftest import PgDatabase, unique_lea
from tests.factories import add_district
from tests.loading.conftest import OPERATOR
from tests.web.test_admin_pages import sign_in_operator

# A process that records a load as running (holding it) and then waits, as a server does
# mid-load; the test kills it with SIGKILL, so it has no chance to record anything more.
_HOLDER = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    from gateway.audit import Actor
    from tenants.directory import District
    from tenants.loading import LoadRequest, start_load
    from tenants.stores import StoreRegistry

    async def main() -> None:
        stores = StoreRegistry({"main": sys.argv[1]}, min_size=0, max_size=2)
        await stores.open()
        district = District(int(sys.argv[2]), sys.argv[3], "x", "lea", "active", "main")
        started = await start_load(
            stores, district, LoadRequest(Path("bundle.zip")), Actor("cli", "doomed")
        )
        backend = started.holder.get_server_pid()
        print(started.load_id, backend, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())
    """
)


async def _status(stores: StoreRegistry, load_id: object) -> asyncpg.Record:
    async with stores.control.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT status, finished_at, message FROM district_loads WHERE load_id = $1", load_id
        )
    assert row is not None
    return row


async def _gone(owner: asyncpg.Connection, backend: int) -> None:
    """Wait until PostgreSQL has ended the killed process's session (it then frees its locks)."""
    while await owner.fetchval("SELECT count(*) FROM pg_stat_activity WHERE pid = $1", backend):
        await asyncio.sleep(0.05)


async def test_a_load_whose_process_died_is_recorded_as_failed(
    stores: StoreRegistry,
    district: District,
    database: PgDatabase,
    owner_conn: asyncpg.Connection,
) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, database.app_url, str(district.id), district.lea_code],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        line = await asyncio.to_thread(holder.stdout.readline)
        load_id, backend = line.split()
        # Alive: the reaper leaves it running.
        assert await district_loads.reap(stores.control) == 0
        assert (await _status(stores, load_id))["status"] == "running"
    finally:
        holder.kill()
        holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    await asyncio.wait_for(_gone(owner_conn, int(backend)), timeout=120)

    assert await district_loads.reap(stores.control) == 1
    row = await _status(stores, load_id)
    assert row["status"] == "failed" and row["finished_at"] is not None
    assert row["message"] == district_loads.INTERRUPTED
    audited = await owner_conn.fetch(
        "SELECT actor_type, actor, outcome FROM audit_log"
        " WHERE action = 'district.load' AND detail->>'load_id' = $1",
        load_id,
    )
    assert [tuple(r) for r in audited] == [("system", "housekeeping", "failure")]
    assert await district_loads.reap(stores.control) == 0  # once is enough


async def test_a_running_load_in_this_process_is_not_reaped(
    stores: StoreRegistry, district: District
) -> None:
    started = await start_load(stores, district, LoadRequest(Path("x.zip")), OPERATOR)
    try:
        await district_loads.reap(stores.control)
        assert (await _status(stores, started.load_id))["status"] == "running"
    finally:
        await district_loads.release(started.holder, started.load_id)
        await started.holder.close()  # the load's own connection, not a pooled one
    # Let go of without a finish (a bug, not a death): now it is reaped.
    assert await district_loads.reap(stores.control) >= 1
    assert (await _status(stores, started.load_id))["status"] == "failed"


async def test_old_error_lists_are_emptied_and_their_counts_kept(
    district: District, owner_conn: asyncpg.Connection, stores: StoreRegistry
) -> None:
    errors = json.dumps([{"file": "students.csv", "line": 2, "value": "Avery", "reason": "x"}])
    now = datetime.now(UTC)
    ids = {}
    for name, finished in (("old", now - timedelta(days=31)), ("recent", now - timedelta(days=29))):
        ids[name] = await owner_conn.fetchval(
            "INSERT INTO district_loads (district_id, requested_by, requested_at, finished_at,"
            " source_name, mode, status, error_count, errors)"
            " VALUES ($1, 'cli:t', $2, $2, $3, 'snapshot', 'rejected', 1, $4::jsonb)"
            " RETURNING load_id",
            district.id,
            finished,
            name,
            errors,
        )
    assert await district_loads.purge_errors(stores.control, 30) >= 1
    kept = {
        r["source_name"]: (json.loads(r["errors"]), r["error_count"])
        for r in await owner_conn.fetch(
            "SELECT source_name, errors::text, error_count FROM district_loads"
            " WHERE load_id = ANY($1)",
            list(ids.values()),
        )
    }
    assert kept == {"old": ([], 1), "recent": (json.loads(errors), 1)}


async def test_the_console_says_when_a_loads_errors_were_purged(
    client: httpx.AsyncClient,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
) -> None:
    console = await sign_in_operator(client, control)
    district = await add_district(owner_conn, unique_lea())
    load_id = await owner_conn.fetchval(
        "INSERT INTO district_loads (district_id, requested_by, requested_at, finished_at,"
        " source_name, mode, status, error_count, errors)"
        " VALUES ($1, 'cli:t', now() - interval '40 days', now() - interval '40 days',"
        " 'old.zip', 'snapshot', 'rejected', 4, $2::jsonb)"
        " RETURNING load_id",
        district.id,
        json.dumps(
            [{"file": "students.csv", "line": 2, "column": "x", "value": "y", "reason": "z"}]
        ),
    )
    page = f"/admin/districts/{district.lea_code}/data/{load_id}"
    assert "students.csv" in (await console.get(page)).text
    await district_loads.purge_errors(control, 30)
    shown = (await console.get(page)).text
    assert "students.csv" not in shown and "data-errors-purged" in shown and "Errors (4)" in shown
