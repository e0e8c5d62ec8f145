"""The benchmark's own embedded PostgreSQL: started in the run's home folder, stopped at the end.

The harness process is pgserver's only holder of the cluster (every gateway process it starts
connects by URL), so `stop()` (or, failing that, pgserver's atexit hook) stops the postmaster.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from gateway.database.bootstrap import bootstrap
from gateway.database.embedded import EmbeddedServer, start_embedded

DATABASE = "gateway_bench"


@dataclass(frozen=True)
class Database:
    server: EmbeddedServer
    owner_url: str  # gateway_owner: migrations and seeding
    app_url: str  # gateway_app: what `gateway serve` connects as


def start(home: Path, *, fresh: bool = False) -> Database:
    """Start (or join) the cluster under `home/pgdata`, ensure roles and the database
    (dropped and created again when `fresh`)."""
    server = start_embedded(home)
    try:
        urls = asyncio.run(bootstrap(server.url(), [DATABASE], fresh=fresh))[DATABASE]
    except BaseException:
        stop(server)
        raise
    return Database(server=server, owner_url=urls.owner_url, app_url=urls.app_url)


def stop(server: EmbeddedServer) -> None:
    """Release our hold on the cluster; pgserver stops it when we were the last holder."""
    server.handle.cleanup()


def postgres_bin() -> Path | None:
    """The embedded server's binaries (pgbench among them)."""
    import pgserver

    found = Path(pgserver.__file__).parent / "pginstall" / "bin"
    return found if found.is_dir() else None


def server_version(url: str) -> str:
    async def go() -> str:
        conn = await asyncpg.connect(url, timeout=10)
        try:
            return str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()

    return asyncio.run(go())
