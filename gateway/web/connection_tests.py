"""The connection tests this process runs in the background, and what the console says of them.

A test holds a socket for up to ~20 s, so the console starts it as a task and answers at
once; the probe stores the outcome on the connection's row, which every process reads. That
a test is running is on the row too (`test_started_at`, claimed atomically), so a second
click on another worker joins the running test and every worker's page says "Test initiated".
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg
import structlog
from starlette.applications import Starlette

from gateway.control import vendors
from gateway.errors import Conflict
from gateway.outgoing.probe import FAILED, VALID, ProbeResult

log = structlog.stdlib.get_logger("gateway.web")

INITIATED = "Test initiated"
MAX_RUNNING_TESTS = 16  # across connections: each test holds a socket for up to ~20 s


@dataclass(frozen=True)
class ProbeState:
    """What the console says about a connection's test: `idle` (never tested, or edited
    since), `running`, or `done` with the stored outcome."""

    state: str
    ok: bool | None = None
    reason: str | None = None
    message: str = ""
    tested_at: datetime | None = None

    @property
    def headline(self) -> str:
        if self.state == "running":
            return INITIATED
        if self.ok is None:
            return "Not tested"
        return VALID if self.ok else FAILED

    @property
    def text(self) -> str:
        """The sentence in the page's live region, as app.js writes it too."""
        if self.state == "done" and not self.ok:
            return f"{FAILED}: {self.reason or self.message or 'unknown reason'}"
        return self.headline

    @property
    def tone(self) -> str:
        if self.state != "done":
            return self.state
        return "ok" if self.ok else "error"

    def as_json(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "ok": self.ok,
            "headline": self.headline,
            "reason": self.reason,
            "message": self.message,
            "tested_at": self.tested_at.isoformat() if self.tested_at else None,
        }


def _done(task: asyncio.Task[ProbeResult]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("connection_test_crashed", error=type(task.exception()).__name__)


class ConnectionTests:
    """The connection tests this process runs in the background, by connection id.

    The event loop keeps only weak references to tasks, so they are held here (on app.state)
    until the connection's next test replaces them. At most one runs per connection: a second
    click while one runs joins it.
    """

    def __init__(self, limit: int = MAX_RUNNING_TESTS) -> None:
        self._limit = limit
        self._tasks: dict[UUID, asyncio.Task[ProbeResult]] = {}

    def running(self, connection_id: UUID) -> bool:
        task = self._tasks.get(connection_id)
        return task is not None and not task.done()

    async def start(
        self,
        pool: asyncpg.Pool,
        connection_id: UUID,
        test: Callable[[], Coroutine[Any, Any, ProbeResult]],
    ) -> None:
        if self.running(connection_id):
            return
        if sum(not t.done() for t in self._tasks.values()) >= self._limit:
            raise Conflict("Too many connection tests are running; try again in a few seconds.")
        if not await vendors.claim_test(pool, connection_id):
            return  # running on another worker: this click joins it
        task = asyncio.create_task(
            self._run(pool, connection_id, test), name=f"connection-test-{connection_id}"
        )
        task.add_done_callback(_done)
        self._tasks[connection_id] = task

    @staticmethod
    async def _run(
        pool: asyncpg.Pool,
        connection_id: UUID,
        test: Callable[[], Coroutine[Any, Any, ProbeResult]],
    ) -> ProbeResult:
        try:
            return await test()
        finally:
            await vendors.release_test(pool, connection_id)

    def state_of(self, row: Mapping[str, Any]) -> ProbeState:
        """The connection's state: running here, or what the probe stored on its row (the
        truth for every process), with the short reason when this process ran that test."""
        task = self._tasks.get(row["connection_id"])
        if (task is not None and not task.done()) or row.get("test_running"):
            return ProbeState("running")
        if task is not None and not task.cancelled() and task.exception() is not None:
            return ProbeState("done", False, "error", "The test could not run; see the server log")
        if row["last_test_at"] is None:
            return ProbeState("idle")
        stored = ProbeState(
            "done", row["last_test_ok"], None, row["last_test_message"] or "", row["last_test_at"]
        )
        result = task.result() if task is not None and not task.cancelled() else None
        if result is not None and (result.ok, result.message[:500]) == (stored.ok, stored.message):
            return ProbeState("done", stored.ok, result.reason, stored.message, stored.tested_at)
        return stored


def connection_tests(app: Starlette) -> ConnectionTests:
    tests: ConnectionTests | None = getattr(app.state, "connection_tests", None)
    if tests is None:
        tests = app.state.connection_tests = ConnectionTests()
    return tests
