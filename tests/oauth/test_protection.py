"""Guessing a secret gets a client locked from that address only; floods get 429."""

from __future__ import annotations

import asyncio
import base64
import time
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.ratelimit import RateLimiter, lease_size
from gateway.settings import Settings
from tests.conftest import PgDatabase, client_from
from tests.factories import token_response
from tests.oauth.conftest import Pair
from tests.secrets_seen import captured


@pytest.fixture(scope="module")
async def strict_app(
    database: PgDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[Starlette, Settings]]:
    """An app with small thresholds: 3 failures lock a client+address, 6 lock an address,
    and 5 tokens a second per client (burst 5)."""
    settings = database.settings(
        tmp_path_factory.mktemp("strict"),
        lockout_threshold=3,
        lockout_address_threshold=6,
        lockout_seconds=60,
        token_rate_per_second=5.0,
        token_rate_burst=5,
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        yield app, settings


async def audit_reasons(conn: asyncpg.Connection, app: Starlette, client_id: str) -> list[str]:
    await app.state.services.audit.flush()
    rows = await conn.fetch(
        "SELECT detail->>'reason' AS reason FROM audit_log WHERE target = $1 AND action = 'token.issue'"
        " AND outcome <> 'success' ORDER BY audit_id",
        client_id,
    )
    return [r["reason"] for r in rows]


async def test_lockout_spares_the_legitimate_client_elsewhere(
    strict_app: tuple[Starlette, Settings], pair: Pair, control: asyncpg.Connection
) -> None:
    app, settings = strict_app
    async with (
        client_from(app, settings, "198.51.100.10") as attacker,
        client_from(app, settings, "198.51.100.20") as legitimate,
    ):
        for _ in range(3):
            assert (await token_response(attacker, pair.client_id, "etgs_guess")).status_code == 401
        # Locked from this address: even the right secret is refused, unchecked.
        locked = await token_response(attacker, pair.client_id, pair.secret)
        assert locked.status_code == 401
        assert locked.json()["error"] == "invalid_client"
        # The consumer's own system, elsewhere, is not affected.
        assert (await token_response(legitimate, pair.client_id, pair.secret)).status_code == 200
    reasons = await audit_reasons(control, app, pair.client_id)
    assert reasons == ["bad_secret", "bad_secret", "bad_secret", "locked"]
    assert '"kind": "lockout"' in captured() and pair.client_id in captured()


async def test_lock_is_shared_by_every_worker(
    strict_app: tuple[Starlette, Settings],
    app_settings: Settings,
    gateway_app: Starlette,
    pair: Pair,
) -> None:
    # Two apps on one database stand for two workers: a lock taken by one binds the other.
    app, settings = strict_app
    async with client_from(app, settings, "198.51.100.30") as first:
        for _ in range(3):
            await token_response(first, pair.client_id, "etgs_guess")
    other = gateway_app.state.services.lockout
    for _ in range(100):
        if other.locked_for(pair.client_id, "198.51.100.30"):
            break
        await asyncio.sleep(0.01)
    assert other.locked_for(pair.client_id, "198.51.100.30") > 0
    assert other.locked_for(pair.client_id, "198.51.100.31") == 0


async def test_an_address_guessing_many_clients_is_locked(
    strict_app: tuple[Starlette, Settings], pair: Pair
) -> None:
    app, settings = strict_app
    async with (
        client_from(app, settings, "198.51.100.40") as sprayer,
        client_from(app, settings, "198.51.100.41") as legitimate,
    ):
        for n in range(6):
            await token_response(sprayer, f"made-up-client-{n:04d}", "etgs_guess")
        assert (await token_response(sprayer, pair.client_id, pair.secret)).status_code == 401
        assert (await token_response(legitimate, pair.client_id, pair.secret)).status_code == 200


async def test_rate_limit_answers_429_with_retry_after(
    strict_app: tuple[Starlette, Settings], pair: Pair
) -> None:
    app, settings = strict_app
    async with client_from(app, settings, "198.51.100.50") as client:
        statuses = [
            (await token_response(client, pair.client_id, pair.secret)).status_code
            for _ in range(8)
        ]
        assert statuses[:5] == [200] * 5
        assert 429 in statuses[5:]
        limited = await token_response(client, pair.client_id, pair.secret)
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        # A token endpoint error code (RFC 8628 §3.5, registered for the token endpoint
        # response), not the authorization endpoint's temporarily_unavailable.
        assert limited.json()["error"] == "slow_down"
        assert limited.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(
    "raw",
    ["{id}:{secret}%zz", "{id}%:{secret}", "{id}:%FF{secret}"],
    ids=["stray-percent-in-secret", "stray-percent-in-id", "not-utf8"],
)
async def test_basic_credentials_not_form_urlencoded_are_a_bad_request_not_a_failed_login(
    strict_app: tuple[Starlette, Settings], pair: Pair, raw: str
) -> None:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding; a value that
    # is not is a malformed request (§5.2 invalid_request), and counts towards no lockout.
    app, settings = strict_app
    header = (
        "Basic "
        + base64.b64encode(raw.format(id=pair.client_id, secret=pair.secret).encode()).decode()
    )
    async with client_from(app, settings, "198.51.100.60") as client:
        for _ in range(7):  # more than both lockout thresholds (3 per client, 6 per address)
            response = await client.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": header},
            )
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "invalid_request"
            assert "www-authenticate" not in response.headers
        assert (await token_response(client, pair.client_id, pair.secret)).status_code == 200


async def test_basic_header_that_is_not_base64_is_a_bad_request(
    strict_app: tuple[Starlette, Settings],
) -> None:
    app, settings = strict_app
    async with client_from(app, settings, "198.51.100.61") as client:
        for header in ("Basic !!!notbase64", "Basic " + base64.b64encode(b"no-colon").decode()):
            response = await client.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                headers={"Authorization": header},
            )
            assert response.status_code == 400, response.text
            assert response.json()["error"] == "invalid_request"


async def test_token_bucket_refills(gateway_app: Starlette, control: asyncpg.Connection) -> None:
    pool = gateway_app.state.services.stores.control
    scope = f"t{uuid.uuid4().hex[:12]}"
    # A slow rate, so that the machine's load cannot refill a token between two takes.
    limiter = RateLimiter(pool, scope, rate_per_second=0.01, burst=2)
    assert await limiter.take("c") == 0
    assert await limiter.take("c") == 0
    assert await limiter.take("c") == 100  # 1 token at 0.01/s: Retry-After 100 s
    # Half a bucket's refill time later (moved in the database: its clock is the only one),
    # one token is back.
    await control.execute(
        "UPDATE rate_buckets SET refilled_at = refilled_at - interval '100 seconds'"
        " WHERE scope = $1",
        scope,
    )
    assert await limiter.take("c") == 0
    assert await limiter.take("c") > 0
    assert await limiter.take("other") == 0  # per key
    assert await RateLimiter(pool, scope, 0, 1).take("c") == 0  # 0 disables
    # A bucket untouched for longer than a full refill is forgotten.
    await control.execute(
        "UPDATE rate_buckets SET refilled_at = refilled_at - interval '1 hour' WHERE scope = $1"
        " AND key = 'other'",
        scope,
    )
    assert await limiter.purge() == 1
    left = await control.fetch("SELECT key FROM rate_buckets WHERE scope = $1", scope)
    assert [r["key"] for r in left] == ["c"]


async def test_concurrent_takes_never_overspend(gateway_app: Starlette) -> None:
    """Many takes at once (as from many workers) spend exactly the burst, no more."""
    pool = gateway_app.state.services.stores.control
    limiter = RateLimiter(pool, f"t{uuid.uuid4().hex[:12]}", rate_per_second=0.001, burst=7)
    waits = await asyncio.gather(*(limiter.take("c") for _ in range(30)))
    assert waits.count(0) == 7


def test_a_lease_is_a_quarter_second_of_the_rate_and_at_most_a_quarter_of_the_burst() -> None:
    assert lease_size(20.0, 40) == 5  # the defaults
    assert lease_size(100.0, 40) == 10  # the burst bounds it
    assert lease_size(5.0, 5) == 1  # slow rates: one token per request, as a plain bucket
    assert lease_size(0.01, 2) == 1
    assert lease_size(1_000_000.0, 1_000_000) == 250_000


async def test_a_worker_spends_its_lease_from_memory(
    gateway_app: Starlette, control: asyncpg.Connection
) -> None:
    """One write to the shared bucket per lease, not per request (issue 16)."""
    pool = gateway_app.state.services.stores.control
    scope = f"t{uuid.uuid4().hex[:12]}"
    limiter = RateLimiter(pool, scope, rate_per_second=100.0, burst=40)
    assert limiter.lease == 10
    bucket = "SELECT tokens, taken, refilled_at FROM rate_buckets WHERE scope = $1 AND key = 'c'"
    assert await limiter.take("c") == 0
    first = await control.fetchrow(bucket, scope)
    assert first["taken"] == 10
    assert first["tokens"] == 30  # a new bucket starts full, less the lease
    for _ in range(9):
        assert await limiter.take("c") == 0
    assert await control.fetchrow(bucket, scope) == first  # the nine came from the lease
    assert await limiter.take("c") == 0  # the lease is spent: the next take withdraws again
    second = await control.fetchrow(bucket, scope)
    assert second["refilled_at"] > first["refilled_at"]
    assert second["taken"] == 10


async def test_two_workers_with_leases_never_spend_more_than_the_bucket_gave(
    gateway_app: Starlette,
) -> None:
    """Two limiters on one bucket (as two workers), many concurrent takes each: every token
    granted was withdrawn from the shared bucket, so the burst plus the refill over the time
    taken bounds them, and concurrent takes in one worker share its lease (none is wasted but
    the last lease of each worker)."""
    pool = gateway_app.state.services.stores.control
    scope = f"t{uuid.uuid4().hex[:12]}"
    rate, burst = 8.0, 8
    workers = [RateLimiter(pool, scope, rate, burst) for _ in range(2)]
    assert workers[0].lease == 2
    started = time.monotonic()
    waits = await asyncio.gather(*(w.take("c") for w in workers for _ in range(20)))
    elapsed = time.monotonic() - started
    granted = waits.count(0)
    assert granted <= burst + rate * elapsed
    assert granted >= burst - 2 * (workers[0].lease - 1)
    assert all(w > 0 for w in waits if w)
