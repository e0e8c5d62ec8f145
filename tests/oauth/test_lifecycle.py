"""The key/secret lifecycle operators run: import, rotate with overlap, revoke, expire, suspend."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import credentials, districts
from gateway.errors import Conflict, ValidationFailed
from gateway.oauth.tokens import TokenInvalid
from tests.factories import CONSUMER_ACTOR, access_token, issue, token_response
from tests.oauth.conftest import Pair
from tests.secrets_seen import remember


async def test_rotation_keeps_the_old_secret_until_the_overlap_ends(
    client: httpx.AsyncClient, control: asyncpg.Connection, pair: Pair
) -> None:
    rotated = await credentials.rotate(
        control, pair.client_id, overlap=timedelta(seconds=2), actor=CONSUMER_ACTOR
    )
    remember(rotated.client_secret)
    assert rotated.client_secret != pair.secret
    started = time.monotonic()
    assert (await token_response(client, pair.client_id, rotated.client_secret)).status_code == 200
    old = await token_response(client, pair.client_id, pair.secret)
    assert old.status_code == 200, "old secret works during the overlap"
    await asyncio.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
    assert (await token_response(client, pair.client_id, pair.secret)).status_code == 401
    assert (await token_response(client, pair.client_id, rotated.client_secret)).status_code == 200


async def test_rotation_with_zero_overlap_ends_the_old_secret_at_once(
    client: httpx.AsyncClient, control: asyncpg.Connection, pair: Pair
) -> None:
    rotated = await credentials.rotate(
        control, pair.client_id, overlap=timedelta(0), actor=CONSUMER_ACTOR
    )
    remember(rotated.client_secret)
    # Every worker hears of the rotation through the change feed within moments.
    deadline = time.monotonic() + 1.0
    while (await token_response(client, pair.client_id, pair.secret)).status_code != 401:
        assert time.monotonic() < deadline, "old secret still accepted a second after rotation"
        await asyncio.sleep(0.01)
    assert (await token_response(client, pair.client_id, pair.secret)).status_code == 401
    assert (await token_response(client, pair.client_id, rotated.client_secret)).status_code == 200


async def test_revocation_stops_issued_tokens_within_a_second(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    token = await access_token(client, pair.client_id, pair.secret)
    bearer = gateway_app.state.services.bearer
    assert (await bearer.check(token)).credential.client_id == pair.client_id
    await credentials.revoke(control, pair.client_id, actor=CONSUMER_ACTOR)
    revoked_at = time.monotonic()
    while True:
        try:
            await bearer.check(token)
        except TokenInvalid as exc:
            reason = exc.reason
            break
        assert time.monotonic() - revoked_at < 1.0, "token still accepted a second after revoke"
        await asyncio.sleep(0.005)
    assert "revoked" in reason
    # And no new tokens.
    assert (await token_response(client, pair.client_id, pair.secret)).status_code == 401
    with pytest.raises(Conflict):
        await credentials.revoke(control, pair.client_id, actor=CONSUMER_ACTOR)


async def test_expired_credential_issues_no_tokens(
    client: httpx.AsyncClient,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    pair: Pair,
) -> None:
    short = await issue(
        control, pair.lea, pair.consumer, expires_at=datetime.now(UTC) + timedelta(seconds=1)
    )
    response = await token_response(client, short.client_id, short.client_secret)
    assert response.status_code == 200
    assert response.json()["expires_in"] <= 1, "a token never outlives its credential"
    await asyncio.sleep(1.1)
    assert (await token_response(client, short.client_id, short.client_secret)).status_code == 401
    listed = {c["client_id"]: c for c in await credentials.list_credentials(control, pair.lea)}
    assert listed[short.client_id]["status"] == "expired"


async def test_expiry_in_the_past_is_refused(control: asyncpg.Connection, pair: Pair) -> None:
    with pytest.raises(ValidationFailed):
        await issue(
            control, pair.lea, pair.consumer, expires_at=datetime.now(UTC) - timedelta(days=1)
        )


async def test_imported_secret_is_slow_hashed_flagged_weak_and_works(
    client: httpx.AsyncClient, control: asyncpg.Connection, pair: Pair
) -> None:
    weak_secret = "Winter2024!"
    remember(weak_secret)
    client_id = f"legacy-{pair.lea.lower()}-01"
    result = await credentials.import_existing(
        control,
        await credentials.hash_import(client_id=client_id, secret=weak_secret),
        lea_code=pair.lea,
        consumer=pair.consumer,
        label="from the old system",
        actor=CONSUMER_ACTOR,
    )
    assert result["weak_secret"] is True
    stored = await control.fetchrow(
        "SELECT s.hash_kind, s.secret_hash FROM credential_secrets s JOIN credentials c USING (credential_id)"
        " WHERE c.client_id = $1",
        client_id,
    )
    assert stored["hash_kind"] == "argon2id"
    assert stored["secret_hash"].startswith("$argon2id$")
    assert weak_secret not in stored["secret_hash"]
    assert (await token_response(client, client_id, weak_secret)).status_code == 200
    assert (await token_response(client, client_id, weak_secret + "!")).status_code == 401
    strong = "x" * 20 + "ABCDEFGHIJKLMNOPQRSTUV0123456789"
    remember(strong)
    again = await credentials.import_existing(
        control,
        await credentials.hash_import(client_id=client_id + "b", secret=strong),
        lea_code=pair.lea,
        consumer=pair.consumer,
        label="strong",
        actor=CONSUMER_ACTOR,
    )
    assert again["weak_secret"] is False


async def test_generated_secrets_are_stored_only_as_sha256(
    control: asyncpg.Connection, pair: Pair
) -> None:
    rows = await control.fetch(
        "SELECT s.hash_kind, s.secret_hash FROM credential_secrets s JOIN credentials c USING (credential_id)"
        " WHERE c.client_id = $1",
        pair.client_id,
    )
    assert [r["hash_kind"] for r in rows] == ["sha256"]
    assert pair.secret.startswith("etgs_") and len(pair.secret) >= 5 + 43  # 256 bits
    assert pair.secret not in rows[0]["secret_hash"]
    listed = await credentials.list_credentials(control, pair.lea)
    text = repr(listed)
    assert pair.secret not in text and rows[0]["secret_hash"] not in text


async def test_suspended_district_issues_no_tokens_and_tokens_stop(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    token = await access_token(client, pair.client_id, pair.secret)
    await districts.set_status(control, pair.lea, "suspended", CONSUMER_ACTOR)
    for _ in range(100):
        if not gateway_app.state.services.directory.cached(pair.lea).active:
            break
        await asyncio.sleep(0.01)
    response = await token_response(client, pair.client_id, pair.secret)
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    # The token itself is still well-formed; the API refuses suspended districts (403).
    assert (await gateway_app.state.services.bearer.check(token)).district.status == "suspended"
    await districts.set_status(control, pair.lea, "active", CONSUMER_ACTOR)
    for _ in range(100):
        if gateway_app.state.services.directory.cached(pair.lea).active:
            break
        await asyncio.sleep(0.01)
    assert (await token_response(client, pair.client_id, pair.secret)).status_code == 200


async def test_every_outcome_is_audited_without_the_secret(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    await token_response(client, pair.client_id, pair.secret)
    await token_response(client, pair.client_id, "etgs_wrong")
    await gateway_app.state.services.audit.flush()
    rows = await control.fetch(
        "SELECT action, outcome, district_id, host(source_addr) AS addr, detail::text AS detail"
        " FROM audit_log WHERE target = $1 ORDER BY audit_id",
        pair.client_id,
    )
    outcomes = [(r["action"], r["outcome"]) for r in rows]
    assert ("credential.issue", "success") in outcomes
    assert ("token.issue", "success") in outcomes
    assert ("token.issue", "failure") in outcomes
    token_rows = [r for r in rows if r["action"] == "token.issue"]
    assert all(r["district_id"] == pair.district_id for r in token_rows)
    assert all(r["addr"] == "203.0.113.7" for r in token_rows)
    assert all(pair.secret not in r["detail"] and "etgs_wrong" not in r["detail"] for r in rows)


async def test_last_used_is_recorded(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    before = (await credentials.get(control, pair.client_id))["last_used_at"]
    assert before is None
    await access_token(client, pair.client_id, pair.secret)
    await gateway_app.state.services.usage.flush()
    after = await credentials.get(control, pair.client_id)
    assert after["last_used_at"] is not None
    assert after["tokens_issued"] == 1
