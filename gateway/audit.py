"""The audit log: who did what, when, from where, and how it ended.

Two ways in, for two kinds of event:

* `record(conn, event)` writes inside the caller's transaction. Operator actions (issue,
  rotate, revoke, suspend, ...) use it, so the change and its audit row commit together or not
  at all.
* `AuditBuffer` queues events from the token endpoint, where thousands of requests a second
  must not each wait for a write, and flushes them in batches every `interval` seconds (and on
  shutdown). A crash can lose at most one interval of token-endpoint events; every security
  event is also logged to the structured log at once.

No event can keep the others out (issue 12: one NUL byte made every later batch fail). Rows
are made storable first (`gateway.storable`: no NUL, no lone surrogate, bounded text). If
Postgres still refuses a batch, its rows are written one by one, so that a refused row costs
only itself: it is dropped, counted in `gateway_audit_events_dropped_total{reason="refused"}`
and logged. Only when the database is away is a batch kept for the next flush.

Never put a secret, a token or a student record into `detail`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

import asyncpg
import structlog

from gateway import tasks
from gateway.errors import StoreUnavailable
from gateway.metrics import AUDIT_DROPPED
from gateway.storable import storable, storable_json

log = structlog.stdlib.get_logger("gateway.audit")
# Longer text is cut: an audit row says who and what, it does not archive hostile input.
_TEXT_LIMIT = 512
# The database is away (or busy): keep the batch for the next flush.
_AWAY = (OSError, asyncpg.InterfaceError, asyncpg.PostgresConnectionError, StoreUnavailable)

COLUMNS = (
    "occurred_at",
    "actor_type",
    "actor",
    "action",
    "outcome",
    "district_id",
    "target",
    "source_addr",
    "request_id",
    "detail",
)
_INSERT = (
    "INSERT INTO audit_log (occurred_at, actor_type, actor, action, outcome, district_id,"
    " target, source_addr, request_id, detail)"
    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8::inet, $9, $10::jsonb)"
)


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator signed in on the web, a CLI user, a consumer's client id, ..."""

    type: str  # operator, cli, consumer, district_user, system, anonymous
    name: str
    source_addr: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class AuditEvent:
    actor: Actor
    action: str
    outcome: str = "success"  # success, failure, denied
    district_id: int | None = None
    target: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)
    occurred_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def row(self) -> tuple[Any, ...]:
        """Values in the order of COLUMNS."""
        return (
            self.occurred_at,
            storable(self.actor.type, _TEXT_LIMIT),
            storable(self.actor.name, _TEXT_LIMIT),
            storable(self.action, _TEXT_LIMIT),
            storable(self.outcome, _TEXT_LIMIT),
            self.district_id,
            None if self.target is None else storable(self.target, _TEXT_LIMIT),
            _inet(self.actor.source_addr),
            None if self.actor.request_id is None else storable(self.actor.request_id, 128),
            json.dumps(
                storable_json(dict(self.detail), _TEXT_LIMIT),
                default=lambda value: storable(str(value), _TEXT_LIMIT),
            ),
        )


def _inet(value: str | None) -> IPv4Address | IPv6Address | None:
    if not value:
        return None
    try:
        return ip_address(value)
    except ValueError:
        return None  # e.g. "testclient": not an address, so not recorded as one


async def record(conn: asyncpg.Connection, event: AuditEvent) -> None:
    """Write one event in the caller's transaction."""
    await conn.execute(_INSERT, *event.row())


class AuditBuffer:
    """Batches events and writes them every `interval` seconds from a background task."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float = 0.2,
        max_batch: int = 500,
        max_queued: int = 100_000,
    ) -> None:
        self._pool = pool
        self._interval = interval
        self._max_batch = max_batch
        self._max_queued = max_queued
        self._pending: list[AuditEvent] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def add(self, event: AuditEvent) -> None:
        if len(self._pending) >= self._max_queued:
            # The database has been away for a long time; memory must stay bounded.
            dropped = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            AUDIT_DROPPED.labels("overflow").inc(len(dropped))
            log.error("audit_events_dropped", reason="overflow", count=len(dropped))
        self._pending.append(event)
        if len(self._pending) >= self._max_batch:
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="audit-buffer")

    async def stop(self) -> None:
        await tasks.stop(self._task)
        self._task = None
        await self.flush()

    async def flush(self) -> None:
        batch, self._pending = self._pending, []
        if not batch:
            return
        try:
            async with self._pool.acquire() as conn:
                try:
                    # COPY: one round trip and little work on the event loop for a whole batch.
                    await conn.copy_records_to_table(
                        "audit_log", records=[e.row() for e in batch], columns=COLUMNS
                    )
                except asyncpg.PostgresError as exc:
                    if isinstance(exc, asyncpg.PostgresConnectionError):
                        raise
                    # Postgres refused the batch for something in it: find what, row by row.
                    batch = await self._one_by_one(conn, batch)
        except _AWAY as exc:
            # Put them back in front: they are written on the next flush.
            self._pending[:0] = batch
            log.error("audit_flush_failed", error=type(exc).__name__, queued=len(self._pending))

    async def _one_by_one(
        self, conn: asyncpg.Connection, batch: list[AuditEvent]
    ) -> list[AuditEvent]:
        """Write each event on its own; drop (count, log) those Postgres refuses. If the
        connection is lost midway, `batch` is cut to the events not yet written (`flush` puts
        those back) and the error raised."""
        for index, event in enumerate(batch):
            try:
                await conn.execute(_INSERT, *event.row())
            except asyncpg.PostgresError as exc:
                if isinstance(exc, asyncpg.PostgresConnectionError):
                    del batch[:index]
                    raise
                AUDIT_DROPPED.labels("refused").inc()
                log.error(
                    "audit_events_dropped",
                    reason="refused",
                    count=1,
                    action=storable(event.action, 64),
                    error=type(exc).__name__,
                )
            except _AWAY:
                del batch[:index]  # flush puts back only what is not written yet
                raise
        return []

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()
