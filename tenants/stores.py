"""One asyncpg pool per data store. The store named "main" is also the control database.

Two rules keep a burst of requests from wedging a pool for good (issue 12: thirty wrong
sign-ins, each holding one connection while waiting for a second, took every connection and
never gave one back):

* every acquire waits at most `acquire_timeout` seconds, then raises `PoolExhausted`, which
  the edge answers as 503 with Retry-After;
* a task that holds a connection of a pool never *waits* for a second one of the same pool:
  it gets an idle one at once, or `PoolExhausted` at once. Hold-and-wait is what deadlocks a
  pool, so this rules the deadlock out; handlers should still finish with one connection
  before they take the next (the sign-in and the token endpoint do).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg

from gateway.errors import PoolExhausted, StoreUnavailable

MAIN_STORE = "main"


# Server settings for every pooled connection. JIT only slows the short, indexed queries
# the gateway runs; a statement timeout bounds a stuck query instead of a stuck worker.
_SERVER_SETTINGS = {
    "application_name": "etranscript-gateway",
    "jit": "off",
    "statement_timeout": "15s",
    "idle_in_transaction_session_timeout": "30s",
}


class PooledConnection(asyncpg.Connection):  # type: ignore[misc]
    """A pooled connection released without asyncpg's reset query (RESET ALL, UNLISTEN *, ...):
    one round trip less per request. The gateway never leaves session state on a pooled
    connection: the district is set with `SET LOCAL`, which ends with its transaction;
    LISTEN, advisory locks and SET are only used on dedicated connections. An open
    transaction is still rolled back by asyncpg on release."""

    def get_reset_query(self) -> str:
        return ""


class BoundedPool(asyncpg.Pool):  # type: ignore[misc]
    """An asyncpg pool whose acquires time out, and where a task holding one of its connections
    never waits for another.

    `Pool.fetch`, `fetchval`, `execute`, ... go through `_acquire` too, so the rules cover them.
    """

    def __init__(self, *args: Any, acquire_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acquire_timeout = acquire_timeout
        self._held_by: dict[int, asyncio.Task[Any]] = {}  # id(proxy) -> task holding it

    async def _acquire(self, timeout: float | None) -> Any:  # noqa: ASYNC109 - asyncpg's signature
        task = asyncio.current_task()
        if task is not None and task in self._held_by.values():
            # Nested: take an idle connection without waiting, or give up now. (No await
            # between this check and the queue's get: nobody can take it in between.)
            if self._queue.empty():
                raise PoolExhausted()
            timeout = None
        elif timeout is None:
            timeout = self.acquire_timeout
        try:
            proxy = await super()._acquire(timeout)
        except TimeoutError:
            raise PoolExhausted() from None
        if task is not None:
            self._held_by[id(proxy)] = task
        return proxy

    def held_by_this_task(self) -> int:
        """How many of this pool's connections the running task holds (what a slow step,
        such as a password hash, should run without)."""
        task = asyncio.current_task()
        return sum(1 for holder in self._held_by.values() if holder is task)

    def holding_tasks(self) -> set[asyncio.Task[Any]]:
        """The tasks holding a connection of this pool now."""
        return set(self._held_by.values())

    async def release(self, connection: Any, *, timeout: float | None = None) -> None:  # noqa: ASYNC109
        self._held_by.pop(id(connection), None)
        await super().release(connection, timeout=timeout)


class StoreRegistry:
    """Pools by store name, opened together and closed together."""

    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        min_size: int = 2,
        max_size: int = 10,
        acquire_timeout: float = 5.0,
        close_timeout: float = 5.0,
    ) -> None:
        if MAIN_STORE not in urls:
            raise ValueError("the 'main' store (the control database) is required")
        self._urls = dict(urls)
        self._min_size = min(min_size, max_size)
        self._max_size = max_size
        self._acquire_timeout = acquire_timeout
        self._close_timeout = close_timeout
        self._pools: dict[str, asyncpg.Pool] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._urls)

    async def open(self) -> None:
        async def create(name: str, url: str) -> tuple[str, asyncpg.Pool]:
            pool = BoundedPool(
                url,
                init_size=None,
                min_size=self._min_size,
                max_size=self._max_size,
                max_queries=50_000,
                max_inactive_connection_lifetime=300.0,
                connect=None,
                setup=None,
                init=None,
                reset=None,
                loop=None,
                connection_class=PooledConnection,
                record_class=asyncpg.Record,
                server_settings=_SERVER_SETTINGS,
                acquire_timeout=self._acquire_timeout,
            )
            await pool
            return name, pool

        created = await asyncio.gather(*(create(n, u) for n, u in self._urls.items()))
        self._pools = dict(created)

    async def close(self) -> None:
        """Close every pool, waiting at most `close_timeout` for connections still in use;
        then terminate them, so that a stuck request cannot hold shutdown forever."""
        pools, self._pools = self._pools, {}

        async def close(pool: asyncpg.Pool) -> None:
            try:
                async with asyncio.timeout(self._close_timeout):
                    await pool.close()
            except TimeoutError:
                pool.terminate()

        await asyncio.gather(*(close(p) for p in pools.values()))

    async def connect(self, store: str) -> asyncpg.Connection:
        """A connection of its own to `store`, outside the pool (the caller closes it): for a
        session that lives as long as a long job, such as the lock that holds a load, which
        a pooled connection would take from the requests for as long."""
        try:
            url = self._urls[store]
        except KeyError:
            raise StoreUnavailable(f"data store {store!r} is not configured") from None
        return await asyncpg.connect(
            url, server_settings=_SERVER_SETTINGS, timeout=self._acquire_timeout
        )

    @property
    def control(self) -> asyncpg.Pool:
        """The pool of the control database (the main store)."""
        return self.pool(MAIN_STORE)

    def pool(self, store: str) -> asyncpg.Pool:
        try:
            return self._pools[store]
        except KeyError:
            raise StoreUnavailable(f"data store {store!r} is not configured") from None

    async def ping(self, within: float = 2.0) -> dict[str, bool]:
        """Whether each store answers `SELECT 1` within `within` seconds."""

        async def one(pool: asyncpg.Pool) -> bool:
            try:
                async with asyncio.timeout(within):
                    return bool(await pool.fetchval("SELECT 1") == 1)
            except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                return False

        names = list(self._pools)
        results = await asyncio.gather(*(one(self._pools[n]) for n in names))
        return dict(zip(names, results, strict=True))

    def stats(self) -> dict[str, dict[str, Any]]:
        return {
            name: {"size": pool.get_size(), "idle": pool.get_idle_size()}
            for name, pool in self._pools.items()
        }
