"""Floods of wrong secrets cannot stop the gateway (issue 12, findings 1 and 5).

The red team's outage: thirty concurrent wrong sign-ins, each holding a control-pool connection
while the lockout waited for a second one, emptied the pool for good. Here 200 concurrent wrong
sign-ins and 200 concurrent wrong token requests run against an app with the production pool
size (10); then a transcript fetch answers 200 and /readyz is 200, and the lockout took hold
after exactly the threshold: the threshold-th failure is the last secret checked.

Bounded: in-process ASGI (no sockets), a few hundred requests, each phase under a generous
timeout that only a hang would reach; assertions are on outcomes, not on speed.
"""

from __future__ import annotations

import asyncio
import secrets
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.control import users
from gateway.settings import Settings
from tests.admin.conftest import eventually
from tests.conftest import PgDatabase, client_from, unique_lea
from tests.factories import (
    CONSUMER_ACTOR,
    access_token,
    add_consumer,
    add_district,
    add_student,
    issue,
)
from tests.resilience.conftest import fresh_address
from tests.web.test_login import PASSWORD, csrf

FLOOD = 200
HANG = 120.0  # seconds: far beyond any honest answer on a loaded machine; only a hang gets here


@pytest.fixture(scope="module")
async def flood_app(app_settings: Settings) -> AsyncIterator[Starlette]:
    """An app of its own, with the production pool size (10) and lockout threshold (5)."""
    settings = replace(app_settings, pool_min_size=2, pool_max_size=10, lockout_threshold=5)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app


async def reasons(database: PgDatabase, prefix: str) -> Counter[tuple[str, str]]:
    conn = await asyncpg.connect(database.owner_url)
    try:
        rows = await conn.fetch(
            "SELECT outcome, detail->>'reason' AS reason FROM audit_log WHERE request_id LIKE $1",
            prefix + "%",
        )
    finally:
        await conn.close()
    return Counter((r["outcome"], r["reason"]) for r in rows)


async def test_a_flood_of_wrong_secrets_leaves_the_gateway_serving(
    flood_app: Starlette,
    app_settings: Settings,
    database: PgDatabase,
    owner_conn: asyncpg.Connection,
) -> None:
    svc = flood_app.state.services
    settings: Settings = svc.settings
    async with svc.stores.control.acquire() as control:
        district = await add_district(owner_conn, unique_lea())
        student_id = f"9{secrets.randbelow(10**9):09d}"
        await add_student(owner_conn, district.id, student_id)
        consumer = await add_consumer(control)
        issued = await issue(control, district.lea_code, consumer)
        email = f"ops-{unique_lea().lower()}@dpi.example.gov"
        await users.add(
            control,
            email=email,
            role="operator",
            lea_code=None,
            password=PASSWORD,
            actor=CONSUMER_ACTOR,
        )
    await eventually(lambda: svc.directory.cached(district.lea_code) is not None, "district")
    prefix = f"flood-{uuid.uuid4().hex[:8]}-"

    # 200 concurrent wrong sign-ins for one user from one address.
    async with client_from(flood_app, settings, fresh_address()) as attacker:
        form = csrf((await attacker.get("/login")).text)

        async def wrong_login(i: int) -> int:
            answer = await attacker.post(
                "/login",
                data={"csrf_token": form, "email": email, "password": f"wrong {i}"},
                headers={"X-Request-Id": f"{prefix}login-{i}"},
            )
            return answer.status_code

        async with asyncio.timeout(HANG):
            statuses = await asyncio.gather(*(wrong_login(i) for i in range(FLOOD)))
    assert Counter(statuses) == {401: FLOOD}

    # 200 concurrent wrong token requests for one client from one address.
    async with client_from(flood_app, settings, fresh_address()) as attacker:

        async def wrong_token(i: int) -> int:
            answer = await attacker.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=(issued.client_id, f"wrong-{i}"),
                headers={"X-Request-Id": f"{prefix}token-{i}"},
            )
            return answer.status_code

        async with asyncio.timeout(HANG):
            statuses = await asyncio.gather(*(wrong_token(i) for i in range(FLOOD)))
    assert Counter(statuses) == {401: FLOOD}

    # The gateway still serves: a transcript, and readiness.
    async with client_from(flood_app, settings, fresh_address()) as consumer_client:
        async with asyncio.timeout(HANG):
            token = await access_token(consumer_client, issued.client_id, issued.client_secret)
            transcript = await consumer_client.get(
                f"/api/v1/districts/{district.lea_code}/etranscripts/{student_id}",
                headers={"Authorization": f"Bearer {token}"},
            )
            ready = await consumer_client.get("/readyz")
    assert transcript.status_code == 200, transcript.text
    assert ready.status_code == 200, ready.text

    # Exactly the threshold of secrets was checked; every later attempt was refused as locked.
    await svc.audit.flush()
    threshold = settings.lockout_threshold
    logins = await reasons(database, f"{prefix}login-")
    assert logins == {
        ("failure", "bad_password"): threshold,
        ("denied", "locked"): FLOOD - threshold,
    }
    tokens = await reasons(database, f"{prefix}token-")
    assert tokens == {("failure", "bad_secret"): threshold, ("denied", "locked"): FLOOD - threshold}


async def test_sign_ins_from_many_addresses_get_answers_not_a_hang(
    flood_app: Starlette, owner_conn: asyncpg.Connection
) -> None:
    """200 wrong sign-ins from 200 addresses: each is answered 401, or 503 with Retry-After
    when the bounded hash queue is full; none hangs, none is a 500; the pool comes back."""
    svc = flood_app.state.services
    settings: Settings = svc.settings

    async def wrong_login(i: int) -> httpx.Response:
        async with client_from(flood_app, settings, fresh_address()) as one:
            form = csrf((await one.get("/login")).text)
            return await one.post(
                "/login",
                data={"csrf_token": form, "email": f"nobody{i}@x.example", "password": "wrong"},
            )

    async with asyncio.timeout(HANG):
        answers = await asyncio.gather(*(wrong_login(i) for i in range(FLOOD)))
    statuses = Counter(a.status_code for a in answers)
    assert set(statuses) <= {401, 503}, statuses
    assert statuses[401] >= settings.slow_hash_concurrency
    assert all("retry-after" in a.headers for a in answers if a.status_code == 503)
    async with client_from(flood_app, settings, fresh_address()) as probe:
        assert (await probe.get("/readyz")).status_code == 200
    assert svc.stores.control.get_idle_size() >= 1
