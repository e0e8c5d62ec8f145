"""The record of district data loads (sql/control/0003_district_loads.sql).

A load is started (status 'running') before any byte of the source is read and finished with
its outcome, counts and first errors; the finish and its `district.load` audit event commit
together.
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
    load_id = await conn.fetchval(
        _START,
        district_id,
        requested_by(actor),
        source_name[:300] or "upload",
        "merge" if merge else "snapshot",
        dry_run,
    )
    return UUID(str(load_id))


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
