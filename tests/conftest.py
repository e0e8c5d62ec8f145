"""Session-wide real PostgreSQL, migrated once; apps and services built on it per need."""

from __future__ import annotations

import base64
import itertools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import CONTROL, DISTRICT, migrate
from gateway.logging import configure_logging
from gateway.settings import MasterKey, Settings
from tests.outgoing.fake_vendor import FakeVendor
from tests.postgres import superuser_url
from tests.secrets_seen import Tee

# The OpenID provider world (a real provider on loopback, two gateway workers) serves the OIDC
# tests and the browser tests alike, so it is one session fixture for the whole run.
pytest_plugins = ["tests.oidc.world"]

TEST_DATABASE = "gateway_test"
# One master key for the whole session: what one test seals (signing keys), another opens.
SESSION_MASTER_KEYS = (MasterKey("test1", secrets.token_bytes(32)),)
REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class PgDatabase:
    superuser_url: str
    owner_url: str
    app_url: str
    password: str | None
    how: str

    def settings(self, home: Path, **overrides: object) -> Settings:
        base = Settings(
            env="test",
            home=home,
            master_keys=SESSION_MASTER_KEYS,
            log_format="json",
            pool_min_size=1,
            pool_max_size=5,
        ).with_database(self.app_url, self.owner_url)
        return replace(base, **overrides)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[tuple[str, str | None, str]]:
    with superuser_url() as found:
        yield found


@pytest.fixture(scope="session")
async def database(pg_server: tuple[str, str | None, str]) -> PgDatabase:
    url, password, how = pg_server
    if how == "embedded":
        # Durability buys nothing in a throw-away test cluster; speed does.
        conn = await asyncpg.connect(url)
        try:
            for setting in ("fsync", "synchronous_commit", "full_page_writes"):
                await conn.execute(f"ALTER SYSTEM SET {setting} = off")
            await conn.execute("SELECT pg_reload_conf()")
        finally:
            await conn.close()
    urls = (await bootstrap(url, [TEST_DATABASE], password=password, fresh=True))[TEST_DATABASE]
    await migrate(urls.owner_url, [CONTROL, DISTRICT])
    return PgDatabase(url, urls.owner_url, urls.app_url, password, how)


_lea_counter = itertools.count(1)


def unique_lea() -> str:
    """A fresh LEA code per call, so tests never share a district."""
    return f"T{next(_lea_counter):04d}{secrets.token_hex(2).upper()}"


@pytest.fixture
async def app_conn(database: PgDatabase) -> AsyncIterator[asyncpg.Connection]:
    """A connection as the application role (RLS applies)."""
    conn = await asyncpg.connect(database.app_url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def owner_conn(database: PgDatabase) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database.owner_url)
    try:
        yield conn
    finally:
        await conn.close()


def b64key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def resolve_pesc_dir() -> Path:
    """GATEWAY_PESC_DIR if set, else the shared folder beside the repository."""
    configured = os.environ.get("GATEWAY_PESC_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "pesc"


@pytest.fixture(scope="session")
def pesc_dir() -> Path:
    """The PESC schemas; tests that need them skip, saying why, only when they are absent."""
    found = resolve_pesc_dir()
    if not (found / "v1.3.0").is_dir() or not (found / "v1.5.0").is_dir():
        pytest.skip(
            f"PESC schemas not found at {found}: set GATEWAY_PESC_DIR to a copy of shared/pesc"
        )
    return found


@pytest.fixture(scope="session")
def samples(pesc_dir: Path) -> Path:
    return pesc_dir / "samples"


@pytest.fixture(scope="session", autouse=True)
def capture_logs() -> None:
    """Every log line of the run goes to one buffer, checked for secrets at the end."""
    configure_logging(Settings(log_format="json", log_level="DEBUG"), stream=Tee())


def app_fixtures(home: str) -> tuple[Any, Any]:
    """The session's `app_settings` and `gateway_app` fixtures, whose home folder is named
    `home`. Built on whatever `database` fixture the requesting folder sees, so tests/citus
    gets the same app on its cluster by calling this again (with a home of its own)."""

    @pytest.fixture(scope="session", name="app_settings")
    def settings_fixture(
        database: PgDatabase, tmp_path_factory: pytest.TempPathFactory
    ) -> Settings:
        # A generous token rate so that only the rate-limit test meets the limit.
        return database.settings(
            tmp_path_factory.mktemp(home),
            bench_routes=True,
            token_rate_per_second=1000.0,
            token_rate_burst=1000,
        )

    @pytest.fixture(scope="session", name="gateway_app")
    async def app_fixture(app_settings: Settings) -> AsyncIterator[Starlette]:
        """The whole app with its lifespan running (pools, caches, change feed)."""
        app = create_app(app_settings)
        async with app.router.lifespan_context(app):
            yield app

    return settings_fixture, app_fixture


app_settings, gateway_app = app_fixtures("home")


def client_from(app: Starlette, settings: Settings, address: str) -> httpx.AsyncClient:
    """An HTTP client into the app, as seen from `address` (lockout is per address)."""
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url=settings.base_url)


@pytest.fixture
async def client(
    gateway_app: Starlette, app_settings: Settings
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(gateway_app, app_settings, "203.0.113.7") as c:
        yield c


@pytest.fixture
async def control(gateway_app: Starlette) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the control database as the application role (what the CLI uses)."""
    async with gateway_app.state.services.stores.control.acquire() as conn:
        yield conn


# One fake vendor on loopback for the whole run (tests/outgoing/fake_vendor.py); `vendor`
# hands it to a test with what it recorded and was told to answer cleared.
@pytest.fixture(scope="session")
def vendor_server() -> Iterator[FakeVendor]:
    server = FakeVendor()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def vendor(vendor_server: FakeVendor) -> FakeVendor:
    vendor_server.reset()
    return vendor_server
