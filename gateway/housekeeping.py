"""Periodic clean-up of what expires: lockout counters, revoked tokens past their expiry,
and web sessions past theirs. Every worker runs it; the statements are idempotent, so
running them more than once costs a few milliseconds and changes nothing.

Each table's owner keeps its SQL and exposes `purge()`; this module only schedules the
purges it is given (`Services` hands it the list), so it imports none of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
import structlog

from gateway import tasks

log = structlog.stdlib.get_logger("gateway.housekeeping")

Purge = Callable[[], Awaitable[int]]  # deletes what has expired; how many rows went


class Housekeeping:
    def __init__(self, purges: Mapping[str, Purge], *, interval: float = 600.0) -> None:
        self._purges = dict(purges)
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> dict[str, int]:
        return {name: await purge() for name, purge in self._purges.items()}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="housekeeping")

    async def stop(self) -> None:
        await tasks.stop(self._task)
        self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                purged = await self.run_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("housekeeping_failed", error=type(exc).__name__)
            else:
                if any(purged.values()):
                    log.info("housekeeping", **purged)
