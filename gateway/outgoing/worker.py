"""The release worker: takes items from the queue in Postgres and delivers them.

`concurrency` slots each loop: claim one due item (FOR UPDATE SKIP LOCKED, leased for
`lease_seconds`), deliver it, settle it, repeat; when nothing is due, wait `idle_poll_seconds`.
A sweeper puts items whose lease expired back in the queue (their worker was killed), and
closes batches whose last item was settled by a worker that died before closing them.

Any number of workers, in any number of processes, may run at once: SKIP LOCKED gives each
item to one of them, the lease takes it back from a dead one, and the item's fixed document id
(its Idempotency-Key) keeps the vendor from storing a second copy when an item is tried again.

The lease must outlast the slowest attempt (a token fetch, an upload, and after a 401 the
same again: four request deadlines); otherwise a live worker's item would be taken from it,
which costs a repeated upload (harmless to the vendor, thanks to the key) but no correctness.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import structlog

from gateway.control import vendors
from gateway.outgoing import batches
from gateway.outgoing.client import Timeouts, TokenCache, VendorClient
from gateway.outgoing.delivery import Delivery
from gateway.outgoing.retry import RetryPolicy
from gateway.pesc import schemas_available
from gateway.settings import MasterKey, Settings
from tenants.stores import StoreRegistry

log = structlog.stdlib.get_logger("gateway.outgoing")

_DB_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


@dataclass(frozen=True)
class WorkerConfig:
    concurrency: int = 4
    lease_seconds: float = 120.0
    idle_poll_seconds: float = 1.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # Uploads may take a vendor a while to store; connecting may not.
    timeouts: Timeouts = field(default_factory=lambda: Timeouts(connect=5.0, read=20.0))
    # How long a login the vendor refused is believed before asking again.
    auth_refusal_seconds: float = 60.0
    # Validate every transcript against the PESC schema before sending (GATEWAY_VALIDATE_PESC).
    pesc_dir: Path | None = None
    # Stop once nothing is queued or in progress anywhere (`gateway worker --exit-when-idle`).
    exit_when_idle: bool = False

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if self.lease_seconds <= 0 or self.idle_poll_seconds <= 0:
            raise ValueError("lease and idle poll must be positive")

    @property
    def sweep_seconds(self) -> float:
        """Expired leases are looked for four times per lease (at most every 10 s)."""
        return min(max(self.lease_seconds / 4, 0.05), 10.0)


def release_worker_config(settings: Settings, **overrides: Any) -> WorkerConfig:
    """The defaults, plus schema validation before sending when GATEWAY_VALIDATE_PESC is on."""
    validating = settings.validate_pesc and schemas_available(settings.pesc_dir)
    return WorkerConfig(**{"pesc_dir": settings.pesc_dir if validating else None, **overrides})


def worker_name() -> str:
    """Who holds a lease: host, process and a random part (a restarted process is another)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    """Start with `start()`, stop with `stop()` (current items finish first); or `run()`."""

    def __init__(
        self,
        stores: StoreRegistry,
        master_keys: tuple[MasterKey, ...],
        config: WorkerConfig | None = None,
        *,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config or WorkerConfig()
        self.name = worker_name()
        self._stores = stores
        self._keys = master_keys
        self._own_http = http is None
        self._http = http or VendorClient.new_http(
            self.config.timeouts, max_connections=2 * self.config.concurrency
        )
        client = VendorClient(self._http, self.config.timeouts)
        self.tokens = TokenCache(
            client, self._secrets, refusal_seconds=self.config.auth_refusal_seconds
        )
        self.delivery = Delivery(
            stores, client, self.tokens, self.config.retry, self.name, self.config.pesc_dir
        )
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        if self.config.lease_seconds < 4 * self.config.timeouts.deadline:
            log.warning(
                "release_lease_shorter_than_attempt",
                lease_s=self.config.lease_seconds,
                attempt_deadline_s=4 * self.config.timeouts.deadline,
            )

    async def _secrets(self, connection_id: UUID) -> vendors.VendorSecrets:
        """Decrypted at the moment of use, for one token request (see TokenCache)."""
        async with self._stores.control.acquire() as conn:
            return await vendors.secrets_for_use(conn, self._keys, connection_id)

    async def start(self) -> None:
        self._stopping.clear()
        self._tasks = [
            asyncio.create_task(self._slot(), name=f"release-slot-{n}")
            for n in range(self.config.concurrency)
        ]
        self._tasks.append(asyncio.create_task(self._sweeper(), name="release-sweeper"))
        log.info(
            "release_worker_started",
            worker=self.name,
            concurrency=self.config.concurrency,
            lease_s=self.config.lease_seconds,
        )

    def request_stop(self) -> None:
        """Ask `run()` to stop (a signal handler's job); current items still settle."""
        self._stopping.set()

    async def stop(self) -> None:
        """Stop claiming, let the items in hand settle, close the HTTP pool."""
        self._stopping.set()
        tasks, self._tasks = self._tasks, []
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_http:
            await self._http.aclose()
        log.info("release_worker_stopped", worker=self.name)

    async def run(self) -> None:
        """Run until `stop()` is called (or, with exit_when_idle, until the queue is empty)."""
        await self.start()
        try:
            await self._stopping.wait()
        finally:
            await self.stop()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def loop_state(self) -> str:
        """'running' while every slot and the sweeper run; else 'stopping', 'not started',
        or 'stalled' (a task ended on its own, which a health check must report)."""
        if self._stopping.is_set():
            return "stopping"
        if not self._tasks:
            return "not started"
        if any(task.done() for task in self._tasks):
            return "stalled"
        return "running"

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def _claim(self) -> batches.Claimed | None:
        async with self._stores.control.acquire() as conn:
            found = await batches.claim(conn, self.name, self.config.lease_seconds)
        return found[0] if found else None

    async def _slot(self) -> None:
        while not self._stopping.is_set():
            try:
                item = await self._claim()
                if item is None:
                    await self._idle()
                    continue
                await self.delivery.handle(item)
            except asyncio.CancelledError:
                raise
            except _DB_ERRORS as exc:
                # The database went away; the lease returns anything in hand to the queue.
                log.error("release_worker_db_error", error=type(exc).__name__)
                await self._pause(self.config.idle_poll_seconds)
            except Exception as exc:  # a bug must not kill the slot; the lease recovers the item
                log.exception("release_worker_error", error=type(exc).__name__)
                await self._pause(self.config.idle_poll_seconds)

    async def _idle(self) -> None:
        if self.config.exit_when_idle:
            async with self._stores.control.acquire() as conn:
                if not await batches.anything_open(conn):
                    self._stopping.set()
                    return
        await self._pause(self.config.idle_poll_seconds)

    async def _sweeper(self) -> None:
        while not self._stopping.is_set():
            try:
                async with self._stores.control.acquire() as conn:
                    returned = await batches.sweep_expired(conn)
                    closed = await batches.finish_stale(conn)
                if returned:
                    log.warning("release_leases_expired", items=returned)
                for batch in closed:
                    log.info("release_batch_finished", **batch)
            except asyncio.CancelledError:
                raise
            except _DB_ERRORS as exc:
                log.error("release_worker_db_error", error=type(exc).__name__)
            await self._pause(self.config.sweep_seconds)
