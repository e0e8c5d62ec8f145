"""`tenant_transaction`: the only way the gateway reaches district data.

It opens a transaction on the district's store and names the district with
`SET LOCAL app.district_id = '<id>'`, in the same round trip as BEGIN (`begin_statement`).
`LOCAL` makes the setting end with the transaction, so a pooled connection returned
afterwards carries no district into the next one; a transaction that forgets it reads nothing (the policies read
`NULLIF(current_setting('app.district_id', true), '')`).

Why SET LOCAL and not `set_config(..., true)`: the two are the same on one PostgreSQL, but on
a Citus coordinator a function call is not carried to the workers, whose shards hold the rows
and run the policies, so there the policy would see no district and match nothing. Citus
sends `SET LOCAL` commands on to every worker the transaction touches when the application
role has `citus.propagate_set_commands = 'local'` (see docs/scale-out.md).
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

# The district id must fit PostgreSQL's integer (the policies cast the setting to it).
_MAX_DISTRICT_ID = 2**31 - 1


def begin_statement(district_id: int, *, readonly: bool = False) -> str:
    """BEGIN and the district in one simple-query round trip (pure).

    The SET LOCAL sits in a DO block for Citus: a coordinator replays on each worker the
    text of the statement a SET LOCAL arrived in, and at top level that text would be this
    whole message, BEGIN included (the worker would warn "there is already a transaction in
    progress"); inside DO it is the SET alone. On plain PostgreSQL the effect is the same.

    SET takes no bind parameter, so the id is written into the text. It is accepted only as
    a positive integer of the database's range (not a bool, not a string) and written with
    `:d`, so the quoted literal can only ever hold digits: no input reaches it unchecked.
    """
    if isinstance(district_id, bool) or not isinstance(district_id, int):
        raise TypeError(f"a district id is an integer, not {type(district_id).__name__}")
    if not 0 < district_id <= _MAX_DISTRICT_ID:
        raise ValueError(f"district id {district_id} is out of range")
    mode = "READ ONLY" if readonly else "READ WRITE"
    return f"BEGIN {mode}; DO $$BEGIN SET LOCAL app.district_id = '{district_id:d}'; END$$"


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
    begin = begin_statement(district.id, readonly=readonly)
    pool = stores.pool(district.store)
    async with pool.acquire() as conn:
        await conn.execute(begin)
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
