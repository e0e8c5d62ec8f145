"""The record of district data loads (sql/control/0003_district_loads.sql).

A load is started (status 'running') before any byte of the source is read and finished with
its outcome, counts and first errors; the finish and its `district.load` audit event commit
together.

A running load's holder (the process doing it) holds a session advisory lock named by the
load, on the control connection it started the load with, taken in the same transaction as
the 'running' row: so no one ever sees the row without the lock. If the process dies (killed,
out of memory, a lost host), PostgreSQL ends its session and frees the lock; `reap` then finds
the load 'running' with no holder and records it failed: its district transaction was rolled
back with its connection, so nothing of it was written. No clock is involved: a slow load on
a busy machine is never mistaken for a dead one. (Session locks need session pooling: behind a
transaction-pooling proxy, run loads on a direct connection.)

`errors` may quote student values from a district's files (a wrong birth date, a name). They
are kept `load_errors_days` (GATEWAY_LOAD_ERRORS_DAYS) after the load finished, long enough to
fix the files, and then emptied by housekeeping (`purge_errors`); the counts stay.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from gateway.audit import Actor, AuditEvent, record

COLUMNS = (
    "load_id, district_id, requested_by, requested_at, finished_at, source_name, source_sha256,"
    " source_bytes, format, mode, dry_run, status, counts, error_count, message"
)
_START = """
INSERT INTO district_loads (district_id, requested_by, source_name, mode, dry_run)
VALUES ($1, $2, $3, $4, $5) RETURNING load_id
"""
# With hashtext(load id): the key of the advisory lock a running load's holder holds. A
# collision of two loads' hashes only delays reaping the dead one until the other ends.
LOCK_CLASS = 724_602_029
_HOLD = "SELECT pg_advisory_lock($1, hashtext($2::uuid::text))"
_FREE = "SELECT pg_advisory_unlock($1, hashtext($2::uuid::text))"
_TRY = "SELECT pg_try_advisory_lock($1, hashtext($2::uuid::text))"
_RUNNING = "SELECT load_id FROM district_loads WHERE status = 'running' ORDER BY requested_at"
_ABANDON = """
UPDATE district_loads d SET status = 'failed', finished_at = now(), message = $2
  FROM districts t
 WHERE d.load_id = $1 AND d.status = 'running' AND t.district_id = d.district_id
RETURNING d.district_id, t.lea_code
"""
INTERRUPTED = (
    "interrupted: the process running this load stopped before it finished;"
    " nothing of it was written"
)
_PURGE_ERRORS = """
UPDATE district_loads SET errors = '[]'
 WHERE finished_at < now() - make_interval(days => $1) AND errors <> '[]'::jsonb
"""
_FINISH = """
UPDATE district_loads
   SET status = $2, finished_at = now(), source_sha256 = $3, source_bytes = $4, format = $5,
       counts = $6::jsonb, error_count = $7, errors = $8::jsonb, message = $9
 WHERE load_id = $1 AND status = 'running'
"""


@dataclass(frozen=True)
class Outcome:
    status: str  # succeeded, validated, unchanged, rejected, failed
    source_sha256: str | None
    source_bytes: int | None
    format: str | None
    counts: dict[str, Any]
    error_count: int
    errors: list[dict[str, Any]]
    message: str | None


def requested_by(actor: Actor) -> str:
    return f"{actor.type}:{actor.name}"[:300]


async def start(
    conn: asyncpg.Connection,
    district_id: int,
    actor: Actor,
    source_name: str,
    *,
    merge: bool,
    dry_run: bool,
) -> UUID:
    """Record a running load, its holder being `conn`'s session (see the module docstring):
    keep `conn` until `finish` and `release`."""
    async with conn.transaction():
        load_id = await conn.fetchval(
            _START,
            district_id,
            requested_by(actor),
            source_name[:300] or "upload",
            "merge" if merge else "snapshot",
            dry_run,
        )
        await conn.execute(_HOLD, LOCK_CLASS, load_id)
    return UUID(str(load_id))


async def release(conn: asyncpg.Connection, load_id: UUID) -> None:
    """Let go of a load (finished or not) on the connection that started it."""
    await conn.execute(_FREE, LOCK_CLASS, load_id)


async def reap(pool: asyncpg.Pool) -> int:
    """Record as failed every running load whose holder is gone; how many (housekeeping)."""
    reaped = 0
    async with pool.acquire() as conn:
        for row in await conn.fetch(_RUNNING):
            load_id = row["load_id"]
            if not await conn.fetchval(_TRY, LOCK_CLASS, load_id):
                continue  # its holder is alive
            try:
                async with conn.transaction():
                    found = await conn.fetchrow(_ABANDON, load_id, INTERRUPTED)
                    if found is not None:
                        await record(
                            conn,
                            AuditEvent(
                                Actor("system", "housekeeping"),
                                "district.load",
                                outcome="failure",
                                district_id=found["district_id"],
                                target=found["lea_code"],
                                detail={"load_id": str(load_id), "status": "failed"},
                            ),
                        )
                        reaped += 1
            finally:
                await conn.execute(_FREE, LOCK_CLASS, load_id)
    return reaped


async def purge_errors(pool: asyncpg.Pool, days: int) -> int:
    """Empty the error lists of loads finished more than `days` ago; how many (housekeeping)."""
    return int((await pool.execute(_PURGE_ERRORS, days)).split()[-1])


async def finish(
    conn: asyncpg.Connection,
    load_id: UUID,
    district_id: int,
    lea_code: str,
    actor: Actor,
    outcome: Outcome,
) -> None:
    """Record the outcome and audit it, in one transaction."""
    async with conn.transaction():
        await conn.execute(
            _FINISH,
            load_id,
            outcome.status,
            outcome.source_sha256,
            outcome.source_bytes,
            outcome.format,
            json.dumps(outcome.counts),
            outcome.error_count,
            json.dumps(outcome.errors),
            outcome.message,
        )
        # Counts and the digest only: errors may quote student values, which the audit log
        # must not hold (gateway.audit).
        detail = {
            "load_id": str(load_id),
            "status": outcome.status,
            "source_sha256": outcome.source_sha256,
            "format": outcome.format,
            "counts": outcome.counts,
            "error_count": outcome.error_count,
        }
        succeeded = outcome.status in ("succeeded", "validated", "unchanged")
        await record(
            conn,
            AuditEvent(
                actor,
                "district.load",
                outcome="success" if succeeded else "failure",
                district_id=district_id,
                target=lea_code,
                detail=detail,
            ),
        )


def _load(row: asyncpg.Record) -> dict[str, Any]:
    data = dict(row)
    for key in ("counts", "errors"):
        if isinstance(data.get(key), str):
            data[key] = json.loads(data[key])
    return data


async def get(conn: asyncpg.Connection, district_id: int, load_id: UUID) -> dict[str, Any] | None:
    """One load with its errors, or None (also for a load of another district)."""
    row = await conn.fetchrow(
        f"SELECT {COLUMNS}, errors FROM district_loads"  # noqa: S608 - constant columns
        " WHERE load_id = $1 AND district_id = $2",
        load_id,
        district_id,
    )
    return _load(row) if row is not None else None


async def recent(
    conn: asyncpg.Connection, district_id: int, limit: int = 20
) -> list[dict[str, Any]]:
    """The district's latest loads, newest first, without their error lists."""
    rows = await conn.fetch(
        f"SELECT {COLUMNS} FROM district_loads WHERE district_id = $1"  # noqa: S608
        " ORDER BY requested_at DESC LIMIT $2",
        district_id,
        limit,
    )
    return [_load(r) for r in rows]


async def last_succeeded(conn: asyncpg.Connection, district_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM district_loads"  # noqa: S608
        " WHERE district_id = $1 AND status = 'succeeded' ORDER BY finished_at DESC LIMIT 1",
        district_id,
    )
    return _load(row) if row is not None else None
