"""The red team's smaller findings (issue 12, point 7), reproduced so that they stay fixed."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from joserfc import jwt as jose_jwt
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.oauth import tokens
from gateway.settings import Settings
from tests.conftest import PgDatabase, client_from
from tests.factories import access_token
from tests.resilience.conftest import World, fresh_address, log_since
from tests.resilience.outage_proxy import OutageProxy
from tests.secrets_seen import captured, remember


def _flip_s(token: str) -> str:
    head, signature = token.rsplit(".", 1)
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    s = int.from_bytes(raw[32:], "big")
    flipped = raw[:32] + (tokens._P256_N - s).to_bytes(32, "big")
    return f"{head}.{base64.urlsafe_b64encode(flipped).rstrip(b'=').decode()}"


async def test_the_malleated_twin_of_a_real_token_is_refused(
    client: httpx.AsyncClient, gateway_app: Starlette, world: World
) -> None:
    bearer = gateway_app.state.services.bearer
    for _ in range(8):  # every minted token is canonical (low S)...
        token = await access_token(client, world.client_id, world.secret)
        assert tokens.is_canonical(token)
        await bearer.check(token)
        twin = _flip_s(token)  # ...and its (r, n - s) twin, which ECDSA accepts, is not
        with pytest.raises(tokens.TokenInvalid, match="bad signature"):
            await bearer.check(twin)
        response = await client.get(
            f"/api/v1/districts/{world.lea}/etranscripts/x",
            headers={"Authorization": f"Bearer {twin}"},
        )
        assert response.status_code == 401


async def test_nbf_in_the_future_is_refused(gateway_app: Starlette, world: World) -> None:
    svc = gateway_app.state.services
    bearer, key = svc.bearer, svc.keys.signer
    now = int(datetime.now(UTC).timestamp())

    def signed(nbf: int) -> str:
        claims = {
            "iss": bearer.issuer,
            "sub": world.client_id,
            "aud": bearer.audience,
            "client_id": world.client_id,
            "exp": now + 900,
            "iat": now,
            "nbf": nbf,
            "jti": uuid.uuid4().hex,
            "scope": "etranscripts",
            "district": world.lea,
        }
        header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid}
        token = tokens.low_s(jose_jwt.encode(header, claims, key, algorithms=["ES256"]))
        remember(token)
        return token

    await bearer.check(signed(now - 10))
    with pytest.raises(tokens.TokenInvalid, match="not yet valid"):
        await bearer.check(signed(now + 3600))


async def test_an_operator_credential_with_the_consumer_scope_is_403_not_500(
    client: httpx.AsyncClient, world: World, owner_conn: asyncpg.Connection, gateway_app: Starlette
) -> None:
    from gateway.control import credentials
    from tests.factories import CONSUMER_ACTOR

    async with gateway_app.state.services.stores.control.acquire() as control:
        operator = await credentials.issue_operator(control, label="scoped", actor=CONSUMER_ACTOR)
    remember(operator.client_secret)
    await owner_conn.execute(
        "UPDATE credentials SET scopes = ARRAY['admin', 'etranscripts'] WHERE client_id = $1",
        operator.client_id,
    )
    await gateway_app.state.services.credentials.refresh_client(operator.client_id)
    answer = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials", "scope": "etranscripts"},
        auth=(operator.client_id, operator.client_secret),
    )
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    remember(token)
    mark = len(captured())
    response = await client.get(
        f"/api/v1/districts/{world.lea}/etranscripts/x",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert "unhandled_error" not in log_since(mark)


@pytest.mark.parametrize(("path", "limit"), [("/oauth2/token", 16 * 1024), ("/login", 64 * 1024)])
async def test_an_oversize_body_is_413_without_a_traceback(
    client: httpx.AsyncClient, path: str, limit: int
) -> None:
    mark = len(captured())
    response = await client.post(
        path,
        content=b"a" * (limit + 1),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    logged = log_since(mark)
    assert "unhandled_error" not in logged and "Traceback" not in logged


async def test_a_cross_district_security_event_names_no_unknown_path_district(
    client: httpx.AsyncClient, world: World
) -> None:
    student_like = "1234567890123"
    mark = len(captured())
    response = await client.get(
        f"/api/v1/districts/{student_like}/etranscripts/x",
        headers={"Authorization": f"Bearer {world.token}"},
    )
    assert response.status_code == 403
    events = [
        json.loads(line)
        for line in log_since(mark).splitlines()
        if line.startswith("{") and '"security_event"' in line
    ]
    assert events and all(student_like not in json.dumps(e) for e in events)
    assert events[-1]["path_district"] is None and events[-1]["path_district_length"] == 13


async def test_a_database_outage_is_503_with_retry_after_and_passes(
    app_settings: Settings, database: PgDatabase
) -> None:
    proxy = OutageProxy(database.app_url)
    await proxy.start()
    settings = replace(
        app_settings.with_database(proxy.url, database.owner_url),
        pool_acquire_timeout_seconds=3.0,
    )
    app = create_app(settings)
    try:
        async with (
            app.router.lifespan_context(app),
            client_from(app, settings, fresh_address()) as client,
        ):
            assert (await client.get("/_floor/query")).status_code == 200
            proxy.cut()
            mark = len(captured())
            async with asyncio.timeout(60):
                during = [await client.get("/_floor/query") for _ in range(3)]
            assert [r.status_code for r in during] == [503, 503, 503]
            assert all(int(r.headers["retry-after"]) >= 1 for r in during)
            assert during[0].headers["content-type"] == "application/problem+json"
            assert "unhandled_error" not in log_since(mark)
            proxy.mend()
            async with asyncio.timeout(60):
                while (await client.get("/_floor/query")).status_code != 200:
                    await asyncio.sleep(0.1)
    finally:
        await proxy.close()


async def test_a_stuck_shutdown_ends_within_the_bound(
    app_settings: Settings, database: PgDatabase
) -> None:
    """A connection held by a request that never ends does not hold shutdown forever."""
    settings = replace(app_settings, shutdown_timeout_seconds=1.0)
    app = create_app(settings)
    held = asyncio.Event()

    async def hold_forever() -> None:
        async with app.state.services.stores.control.acquire():
            held.set()
            await asyncio.sleep(3600)

    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    stuck = asyncio.create_task(hold_forever())
    await held.wait()
    async with asyncio.timeout(60):  # before the fix: forever
        await lifespan.__aexit__(None, None, None)
    stuck.cancel()
    with pytest.raises((asyncio.CancelledError, asyncpg.InterfaceError)):
        await stuck
