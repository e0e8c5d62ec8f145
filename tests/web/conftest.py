"""Fixtures of the web tests: a live server, headless Chromium, and a district with real data.

* `live_server` (session): the real app under uvicorn on 127.0.0.1 (free port), against the
  session's test database; `live_server.base_url` is also the browser contexts' base URL.
* `browser` (session): Debian's Chromium through playwright. Missing Chromium or playwright
  FAILS the browser tests, saying what to install; GATEWAY_SKIP_BROWSER=1 skips them instead.
* `new_context` (per test): makes fresh browser contexts (own cookies and storage, like a
  fresh profile), closed after the test; `new_context(viewport=PHONE)` for a phone.
* `page` (per test): a page in a fresh laptop-sized context.
* `district_world` (session): a seeded district with both kinds of connection, a district user,
  an operator, disclosure rows made by fetching transcripts through the API, and two other
  districts (one with connections of its own, one with none).
* `signed_in_client(app, settings, address, email, password)`; `registrar` and `operator`:
  the district_world's district user and operator, signed in.
* `release_world` (session), `vendor`, `worker`: batch releases and connection tests against
  a fake vendor on loopback (see tests/web/release_world.py).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import credentials, users, vendors
from gateway.control.credentials import IssuedSecret
from gateway.settings import Settings
from tenants.synthetic.generator import DistrictPlan
from tenants.synthetic.seed import seed
from tests.conftest import PgDatabase, client_from, unique_lea
from tests.factories import CONSUMER_ACTOR, access_token, add_consumer, add_district, issue
from tests.secrets_seen import remember
from tests.web.browser import (
    LAPTOP,
    LiveServer,
    launch,
    missing_browser,
    skip_reason,
    start_server,
)
from tests.web.release_world import release_world, worker  # noqa: F401
from tests.web.test_login import sign_in

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, Page, ViewportSize

NewContext = Callable[..., Awaitable["BrowserContext"]]


@pytest.fixture(scope="session")
async def live_server(
    database: PgDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    home = tmp_path_factory.mktemp("live-home")
    server = start_server(lambda port: database.settings(home, base_url=f"http://127.0.0.1:{port}"))
    try:
        await server.wait_ready()
        yield server
    finally:
        await server.stop()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    reason = skip_reason()
    if reason:
        pytest.skip(reason)
    missing = missing_browser()
    if missing:
        pytest.fail(missing, pytrace=False)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        launched = await launch(playwright)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def new_context(browser: Browser, live_server: LiveServer) -> AsyncIterator[NewContext]:
    made: list[BrowserContext] = []

    async def make(viewport: ViewportSize = LAPTOP, **options: Any) -> BrowserContext:
        context = await browser.new_context(
            base_url=live_server.base_url, viewport=viewport, accept_downloads=True, **options
        )
        # Pages here answer in milliseconds; a broken one should fail fast, not in 30 s.
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        await context.close()


@pytest.fixture
async def page(new_context: NewContext) -> Page:
    context = await new_context()
    return await context.new_page()


# --- a district with something to show ------------------------------------------------------

PASSWORD = "district registrar passphrase 7"
STUDENTS = 30
DISCLOSURES_BY_FIRST = 45  # with the second consumer's, more than one page of 50
DISCLOSURES_BY_SECOND = 12
_plan_index = itertools.count(970)  # apart from other tests' plans (school codes, UIDs)


@dataclass(frozen=True)
class Vendor:
    connection_id: UUID
    name: str
    consumer_secret: str
    password: str


@dataclass(frozen=True)
class DistrictWorld:
    lea: str
    district_id: int
    district_email: str
    operator_email: str
    password: str
    first: IssuedSecret  # the credential of the first consumer (most disclosures)
    second: IssuedSecret  # the second consumer's
    revoked: IssuedSecret  # a deleted incoming connection
    vendor: Vendor
    disclosed: tuple[str, ...]  # the student id of each transcript fetched, in order
    disclosures: int  # rows in the district's log
    by_second: int  # rows of the second consumer
    other_lea: str  # a district with connections of its own
    other_credential: IssuedSecret
    other_vendor: Vendor
    empty_lea: str  # a district with no connections at all

    def secrets(self) -> list[str]:
        """Every secret the pages must never show."""
        return [
            self.password,
            self.first.client_secret,
            self.second.client_secret,
            self.revoked.client_secret,
            self.other_credential.client_secret,
            self.vendor.consumer_secret,
            self.vendor.password,
            self.other_vendor.consumer_secret,
            self.other_vendor.password,
        ]


async def _add_vendor(conn: asyncpg.Connection, settings: Settings, lea: str, name: str) -> Vendor:
    consumer_secret, password = (
        f"vcs-{secrets.token_urlsafe(18)}",
        f"vpw-{secrets.token_urlsafe(18)}",
    )
    remember(consumer_secret, password)
    added = await vendors.add(
        conn,
        settings.master_keys,
        lea,
        vendors.ConnectionInput(
            name=name,
            auth_server="https://auth.parchment.example",
            auth_path="/oauth/token",
            upload_server="https://upload.parchment.example",
            upload_port=443,
            upload_path="/api/v1/transcripts",
            consumer_key=f"key-{lea.lower()}",
            consumer_secret=consumer_secret,
            username=f"registrar-{lea.lower()}",
            password=password,
        ),
        CONSUMER_ACTOR,
        allow_insecure=True,
    )
    return Vendor(added["connection_id"], name, consumer_secret, password)


async def _eligible_students(database: PgDatabase, lea: str) -> tuple[int, list[str]]:
    """The district id, and students whose transcripts can be released (courses, no hold)."""
    owner = await asyncpg.connect(database.owner_url)
    try:
        district_id = await owner.fetchval(
            "SELECT district_id FROM districts WHERE lea_code = $1", lea
        )
        rows = await owner.fetch(
            "SELECT s.student_id FROM students s WHERE s.district_id = $1"
            " AND NOT EXISTS (SELECT 1 FROM transcript_holds h WHERE h.district_id = s.district_id"
            "   AND h.student_id = s.student_id AND h.released_at IS NULL)"
            " AND EXISTS (SELECT 1 FROM course_records c WHERE c.district_id = s.district_id"
            "   AND c.student_id = s.student_id) ORDER BY s.student_id",
            district_id,
        )
    finally:
        await owner.close()
    return district_id, [r["student_id"] for r in rows]


async def _fetch_transcripts(
    client: httpx.AsyncClient,
    issued: IssuedSecret,
    lea: str,
    students: list[str],
    count: int,
    recipient: str,
) -> list[str]:
    """Real disclosure rows: the consumer fetches `count` transcripts through the API."""
    token = await access_token(client, issued.client_id, issued.client_secret)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    fetched = []
    for i in range(count):
        student = students[i % len(students)]
        response = await client.get(
            f"/api/v1/districts/{lea}/etranscripts/{student}",
            params={"recipient": recipient, "request_tracking_id": f"REQ-{i:04d}"},
            headers=headers,
        )
        assert response.status_code == 200, response.text
        fetched.append(student)
    return fetched


async def _log_size(database: PgDatabase, district_id: int) -> int:
    owner = await asyncpg.connect(database.owner_url)
    try:
        return int(
            await owner.fetchval(
                "SELECT count(*) FROM disclosures WHERE district_id = $1", district_id
            )
        )
    finally:
        await owner.close()


@pytest.fixture(scope="session")
async def district_world(
    database: PgDatabase,
    gateway_app: Starlette,
    app_settings: Settings,
    tmp_path_factory: pytest.TempPathFactory,
) -> DistrictWorld:
    lea, other_lea, empty_lea = unique_lea(), unique_lea(), unique_lea()
    plan = DistrictPlan(lea, f"Test {lea} County Schools", "lea", "Wake", next(_plan_index), 1)
    await seed(
        database.settings(Path(tmp_path_factory.mktemp("web-seed"))),
        districts=1,
        students_per_district=STUDENTS,
        plans=[plan],
        seed=11,
        workers=0,
    )
    district_id, students = await _eligible_students(database, lea)
    owner = await asyncpg.connect(database.owner_url)
    try:
        await add_district(owner, other_lea)
        await add_district(owner, empty_lea)
    finally:
        await owner.close()
    async with gateway_app.state.services.stores.control.acquire() as conn:
        first_consumer = await add_consumer(conn, f"CFNC {lea}")
        second_consumer = await add_consumer(conn, f"Common App {lea}")
        first = await issue(conn, lea, first_consumer, label="CFNC transcripts")
        second = await issue(conn, lea, second_consumer, label="Common App transcripts")
        revoked = await issue(conn, lea, first_consumer, label="Old CFNC pair")
        await credentials.revoke(conn, revoked.client_id, actor=CONSUMER_ACTOR)
        other_credential = await issue(conn, other_lea, first_consumer, label="Other CFNC pair")
        vendor = await _add_vendor(conn, app_settings, lea, "Parchment")
        other_vendor = await _add_vendor(conn, app_settings, other_lea, "Other Parchment")
        district_email = f"registrar-{lea.lower()}@district.example"
        operator_email = f"support-{lea.lower()}@dpi.example.gov"
        for email, role, code in (
            (district_email, "district", lea),
            (operator_email, "operator", None),
        ):
            await users.add(
                conn, email=email, role=role, lea_code=code, password=PASSWORD, actor=CONSUMER_ACTOR
            )
    remember(PASSWORD)
    async with client_from(gateway_app, app_settings, "198.51.100.30") as client:
        disclosed = await _fetch_transcripts(
            client, first, lea, students, DISCLOSURES_BY_FIRST, "University of North Carolina"
        )
        # A moment apart, so "newest first" has an order to show.
        await asyncio.sleep(0.01)
        disclosed += await _fetch_transcripts(
            client, second, lea, students[:4], DISCLOSURES_BY_SECOND, "Appalachian State University"
        )
    return DistrictWorld(
        lea=lea,
        district_id=district_id,
        district_email=district_email,
        operator_email=operator_email,
        password=PASSWORD,
        first=first,
        second=second,
        revoked=revoked,
        vendor=vendor,
        disclosed=tuple(disclosed),
        disclosures=await _log_size(database, district_id),
        by_second=DISCLOSURES_BY_SECOND,
        other_lea=other_lea,
        other_credential=other_credential,
        other_vendor=other_vendor,
        empty_lea=empty_lea,
    )


@asynccontextmanager
async def signed_in_client(
    app: Starlette, settings: Settings, address: str, email: str, password: str
) -> AsyncIterator[httpx.AsyncClient]:
    async with client_from(app, settings, address) as client:
        response = await sign_in(client, email, password)
        assert response.status_code == 303, response.text
        remember(client.cookies.get("etg_session"))
        yield client


@pytest.fixture
async def registrar(
    gateway_app: Starlette, app_settings: Settings, district_world: DistrictWorld
) -> AsyncIterator[httpx.AsyncClient]:
    """The district's own user, signed in."""
    w = district_world
    async with signed_in_client(
        gateway_app, app_settings, "198.51.100.41", w.district_email, w.password
    ) as client:
        yield client


@pytest.fixture
async def operator(
    gateway_app: Starlette, app_settings: Settings, district_world: DistrictWorld
) -> AsyncIterator[httpx.AsyncClient]:
    w = district_world
    async with signed_in_client(
        gateway_app, app_settings, "198.51.100.42", w.operator_email, w.password
    ) as client:
        yield client
