"""The audit log: who did what, when, from where, and how it ended.

Two ways in, for two kinds of event:

* `record(conn, event)` writes inside the caller's transaction. Operator actions (issue,
  rotate, revoke, suspend, ...) use it, so the change and its audit row commit together or not
  at all.
* `AuditBuffer` queues events from the token endpoint, where thousands of requests a second
  must not each wait for a write, and flushes them in batches every `interval` seconds (and on
  shutdown). A crash can lose at most one interval of token-endpoint events; every security
  event is also logged to the structured log at once.

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

log = structlog.stdlib.get_logger("gateway.audit")

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
            self.actor.type,
            self.actor.name,
            self.action,
            self.outcome,
            self.district_id,
            self.target,
            _inet(self.actor.source_addr),
            self.actor.request_id,
            json.dumps(dict(self.detail), default=str),
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
            log.error("audit_events_dropped", count=len(dropped))
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
                # COPY: one round trip and little work on the event loop for a whole batch.
                await conn.copy_records_to_table(
                    "audit_log", records=[e.row() for e in batch], columns=COLUMNS
                )
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # Put them back in front: they are written on the next flush.
            self._pending[:0] = batch
            log.error("audit_flush_failed", error=type(exc).__name__, queued=len(self._pending))

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._interval):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()
