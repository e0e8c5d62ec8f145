"""The release worker's health verdict and the queue figures its /metrics reports.

Healthy means both: the worker's loop runs (every slot and the sweeper are alive and it was
not told to stop) and the control database answers. Either alone would let a probe keep a
worker that can no longer deliver anything.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from gateway.metrics import QUEUE_AGE, QUEUE_DEPTH
from gateway.outgoing import batches
from gateway.outgoing.worker import Worker
from tenants.stores import MAIN_STORE, StoreRegistry

log = structlog.stdlib.get_logger("gateway.outgoing")

_DB_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


class WorkerHealth:
    def __init__(self, worker: Worker, stores: StoreRegistry, within: float = 2.0) -> None:
        self._worker = worker
        self._stores = stores
        self._within = within

    async def check(self) -> tuple[bool, dict[str, str]]:
        """(healthy, why): the loop's state and the database's."""
        loop = self._worker.loop_state()
        reachable = (await self._stores.ping(self._within)).get(MAIN_STORE, False)
        details = {"worker": loop, "database": "ok" if reachable else "unreachable"}
        return loop == "running" and reachable, details

    async def refresh_queue(self) -> None:
        """Set the queue gauges from the database; on failure, drop them rather than report
        figures that are no longer true (the scrape still answers with the counters)."""
        try:
            async with asyncio.timeout(self._within):
                async with self._stores.control.acquire() as conn:
                    depth = await batches.queue_depth(conn)
        except _DB_ERRORS as exc:
            log.warning("release_queue_unreadable", error=type(exc).__name__)
            QUEUE_DEPTH.clear()
            QUEUE_AGE.clear()
            return
        for state, (items, oldest) in depth.items():
            QUEUE_DEPTH.labels(state).set(items)
            QUEUE_AGE.labels(state).set(oldest)
