"""What every command shares: settings (read once, in `main`), and a way to reach the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg
import click

from gateway.database.resolve import ensure_dev_master_key, resolve_database
from gateway.errors import GatewayError
from gateway.settings import Settings

T = TypeVar("T")


@dataclass
class CliState:
    settings: Settings


def state(ctx: click.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:  # pragma: no cover - main() always sets it
        raise click.UsageError("internal: no CLI state")
    return found


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine; project errors become a clean message and exit code 1."""
    try:
        return asyncio.run(coro)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, asyncpg.PostgresError) as exc:
        raise click.ClickException(f"database error: {exc}") from exc


async def resolved(settings: Settings) -> Settings:
    """Settings with database URLs and a master key, starting/joining the embedded server."""
    with_db, _server = await resolve_database(settings)
    return ensure_dev_master_key(with_db)


@asynccontextmanager
async def control_connection(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """One connection to the control database as the application role."""
    conn = await asyncpg.connect(str(settings.database_url))
    try:
        yield conn
    finally:
        await conn.close()


def on_control(
    ctx: click.Context, action: Callable[[asyncpg.Connection, Settings], Awaitable[T]]
) -> T:
    """Run `action(conn, settings)` on a control-database connection, for one command."""

    async def go() -> T:
        settings = await resolved(state(ctx).settings)
        async with control_connection(settings) as conn:
            return await action(conn, settings)

    return run(go())


@asynccontextmanager
async def district_stores(settings: Settings, lea_code: str) -> AsyncIterator[tuple[Any, Any]]:
    """(StoreRegistry, District) for one command that reads a district's data store."""
    from gateway.errors import NotFound
    from gateway.services import store_urls
    from tenants.directory import DistrictDirectory
    from tenants.stores import StoreRegistry

    stores = StoreRegistry(store_urls(settings), min_size=0, max_size=2)
    await stores.open()
    try:
        district = await DistrictDirectory(stores).by_lea(lea_code.upper())
        if district is None:
            raise NotFound(f"no district {lea_code}")
        yield stores, district
    finally:
        await stores.close()
