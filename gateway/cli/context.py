"""What every command shares: settings (read once, in `main`), and a way to reach the database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from gateway.errors import ConfigurationError, GatewayError

if TYPE_CHECKING:
    import asyncpg

    from gateway.settings import Settings

# asyncio, the settings (starlette) and the database driver are imported where they are used,
# not here: `gateway --help` imports this module and should start in a fraction of a second.

T = TypeVar("T")


@dataclass
class CliState:
    """--home and --env-file as given (before or after the command name), and the settings
    read from them on first use: by then every option of the command line has been parsed."""

    home: Path | None = None
    env_file: Path = Path(".env")
    _settings: Settings | None = field(default=None, repr=False)

    @classmethod
    def of(cls, settings: Settings) -> CliState:
        """A state with settings already read (for invoking one command in-process)."""
        return cls(_settings=settings)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from gateway.settings import load_settings

            try:
                loaded = load_settings(env_file=self.env_file)
            except ConfigurationError as exc:
                raise click.ClickException(str(exc)) from exc
            if self.home is not None:
                loaded = replace(loaded, home=self.home)
            self._settings = served_settings(loaded)
        return self._settings


def served_settings(settings: Settings) -> Settings:
    """Without GATEWAY_BASE_URL, the URLs a command hands out are those of the `gateway dev`
    that serves this home (it records the address it bound), not the default port."""
    if settings.base_url_configured or not settings.embedded:
        return settings
    from gateway.database.served import recorded_base_url

    found = recorded_base_url(settings.home)
    return replace(settings, base_url=found) if found else settings


def state(ctx: click.Context) -> CliState:
    found = ctx.find_object(CliState)
    if found is None:  # pragma: no cover - main() always sets it
        raise click.UsageError("internal: no CLI state")
    return found


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one command's coroutine; project errors become a clean message and exit code 1."""
    import asyncio

    import asyncpg

    try:
        return asyncio.run(coro)
    except GatewayError as exc:
        raise click.ClickException(str(exc)) from exc
    except (OSError, asyncpg.PostgresError) as exc:
        raise click.ClickException(f"database error: {exc}") from exc


async def resolved(settings: Settings, *, create: bool = False) -> Settings:
    """Settings with database URLs and a master key, joining the embedded server.

    Only `dev`, `migrate` and `seed` pass `create=True`: every other command refuses, saying
    where it looked, rather than create an empty database in whatever folder it was run from.
    """
    from gateway.database.resolve import ensure_dev_master_key, resolve_database

    with_db, _server = await resolve_database(settings, create=create)
    return ensure_dev_master_key(with_db)


@asynccontextmanager
async def control_connection(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    """One connection to the control database as the application role."""
    import asyncpg

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


@asynccontextmanager
async def directory_stores(settings: Settings, *, pool_size: int) -> AsyncIterator[Any]:
    """(StoreRegistry, DistrictDirectory) for a command that works across districts; each
    store's pool holds up to `pool_size` connections."""
    from gateway.services import store_urls
    from tenants.directory import DistrictDirectory
    from tenants.stores import StoreRegistry

    stores = StoreRegistry(store_urls(settings), min_size=0, max_size=pool_size)
    await stores.open()
    try:
        yield stores, DistrictDirectory(stores)
    finally:
        await stores.close()
