"""`tenant_transaction`: the only way the gateway reaches district data.

It opens a transaction on the district's store and names the district with
`set_config('app.district_id', ..., true)`. The `true` makes the setting local to the
transaction, so a pooled connection returned afterwards carries no district into the next one.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg

from tenants.directory import District
from tenants.stores import StoreRegistry

# BEGIN and the district in one round trip (the simple query protocol takes several
# statements, but no parameters). The only value put in is District.id, an integer from our
# own control table, passed through int(): no input ever reaches this string.
_BEGIN = "BEGIN {mode}; SELECT set_config('app.district_id', '{district_id:d}', true)"


@dataclass(frozen=True)
class TenantConnection:
    """A connection inside a district's transaction. Queries should still filter by
    `district_id` explicitly (defence in depth); `district_id` is here for that."""

    conn: asyncpg.Connection
    district: District

    @property
    def district_id(self) -> int:
        return self.district.id

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return list(await self.conn.fetch(query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return await self.conn.fetchrow(query, *args)

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self.conn.fetchval(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return str(await self.conn.execute(query, *args))


@asynccontextmanager
async def tenant_transaction(
    stores: StoreRegistry, district: District, *, readonly: bool = False
) -> AsyncIterator[TenantConnection]:
    """Run a transaction on `district`'s store with row-level security scoped to it.

    Commits when the block ends normally; rolls back on any exception, so that a read and the
    disclosure row that records it are kept or lost together.
    """
    pool = stores.pool(district.store)
    mode = "READ ONLY" if readonly else "READ WRITE"
    async with pool.acquire() as conn:
        await conn.execute(_BEGIN.format(mode=mode, district_id=int(district.id)))
        try:
            yield TenantConnection(conn, district)
        except BaseException:
            if not conn.is_closed():
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await conn.execute("ROLLBACK")
            raise
        # On a transaction that an error aborted (one the block caught and carried on from),
        # Postgres answers COMMIT with ROLLBACK: say so rather than report a commit.
        if await conn.execute("COMMIT") != "COMMIT":
            raise asyncpg.InFailedSQLTransactionError(
                "the transaction was rolled back, not committed"
            )
