"""One asyncpg pool per data store. The store named "main" is also the control database."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import asyncpg

from gateway.errors import StoreUnavailable

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


class StoreRegistry:
    """Pools by store name, opened together and closed together."""

    def __init__(self, urls: Mapping[str, str], *, min_size: int = 2, max_size: int = 10) -> None:
        if MAIN_STORE not in urls:
            raise ValueError("the 'main' store (the control database) is required")
        self._urls = dict(urls)
        self._min_size = min(min_size, max_size)
        self._max_size = max_size
        self._pools: dict[str, asyncpg.Pool] = {}

    @property
    def names(self) -> list[str]:
        return sorted(self._urls)

    async def open(self) -> None:
        async def create(name: str, url: str) -> tuple[str, asyncpg.Pool]:
            pool = await asyncpg.create_pool(
                url,
                min_size=self._min_size,
                max_size=self._max_size,
                server_settings=_SERVER_SETTINGS,
                connection_class=PooledConnection,
            )
            return name, pool

        created = await asyncio.gather(*(create(n, u) for n, u in self._urls.items()))
        self._pools = dict(created)

    async def close(self) -> None:
        pools, self._pools = self._pools, {}
        await asyncio.gather(*(p.close() for p in pools.values()))

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
