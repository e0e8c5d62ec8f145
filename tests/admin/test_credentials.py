"""/admin/api/v1/credentials: issue, import, rotate, revoke, list; and that what the API hands
out works at the token endpoint, for as long as it should."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.oauth.tokens import TokenInvalid
from tests.admin.conftest import API, Operator, Setup, remember_shared
from tests.factories import access_token, connections_held_while_hashing, token_response
from tests.secrets_seen import remember


async def issue_via_api(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, **extra: Any
) -> httpx.Response:
    body = {"district": setup.lea, "consumer": setup.consumer, "name": "CFNC production", **extra}
    response = await client.post(f"{API}/credentials", json=body, headers=operator.headers)
    if response.status_code == 201:
        remember_shared(response.json())
    return response


async def test_an_issued_credential_works_at_the_token_endpoint(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, gateway_app: Starlette
) -> None:
    response = await issue_via_api(client, operator, setup)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    shared = response.json()
    assert shared["client_secret"].startswith("etgs_")
    assert shared["district"] == setup.lea
    assert shared["consumer"] == setup.consumer
    assert shared["name"] == "CFNC production"
    assert shared["token_url"] == "http://127.0.0.1:8000/oauth2/token"
    assert shared["etranscripts_url"] == (
        f"http://127.0.0.1:8000/api/v1/districts/{setup.lea}/etranscripts"
    )
    assert response.headers["location"] == f"{API}/credentials/{shared['client_id']}"

    token = await access_token(client, shared["client_id"], shared["client_secret"])
    context = await gateway_app.state.services.bearer.check(token)
    assert context.district.lea_code == setup.lea
    assert "etranscripts" in context.claims.scopes
    assert "admin" not in context.claims.scopes

    one = await client.get(response.headers["location"], headers=operator.headers)
    assert one.status_code == 200
    assert one.headers.get("cache-control") != "no-store"
    shown = one.json()
    assert shown["client_id"] == shared["client_id"]
    assert shown["kind"] == "consumer"
    assert shown["status"] == "active"
    assert shown["usable_secrets"] == 1
    assert "client_secret" not in shown
    assert shared["client_secret"] not in one.text


async def test_an_expiry_date_means_through_that_day(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    day = (datetime.now(UTC) + timedelta(days=30)).date()
    response = await issue_via_api(client, operator, setup, expires_at=day.isoformat())
    assert response.status_code == 201
    expires = datetime.fromisoformat(response.json()["expires_at"])
    assert expires == datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


async def test_issue_refuses_bad_fields_with_422(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    past = await issue_via_api(client, operator, setup, expires_at="2020-01-01")
    assert past.status_code == 422
    assert set(past.json()["errors"]) == {"expires_at"}
    garbled = await issue_via_api(client, operator, setup, expires_at="next tuesday")
    assert garbled.json()["errors"] == {"expires_at": "An ISO 8601 date (YYYY-MM-DD) or date-time"}
    missing = await client.post(f"{API}/credentials", json={}, headers=operator.headers)
    assert missing.json()["errors"] == {
        "district": "Required",
        "consumer": "Required",
        "name": "Required",
    }
    extra = await issue_via_api(client, operator, setup, scopes=["admin"])
    assert extra.json()["errors"] == {"scopes": "Unknown field"}, "no scope escalation by body"


async def test_issue_for_an_unknown_district_or_consumer_is_404(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    for body in (
        {"district": "ZZZ999", "consumer": setup.consumer, "name": "x"},
        {"district": setup.lea, "consumer": "No Such Consumer", "name": "x"},
    ):
        response = await client.post(f"{API}/credentials", json=body, headers=operator.headers)
        assert response.status_code == 404, body


async def test_rotation_keeps_the_old_secret_until_the_overlap_ends(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    old = (await issue_via_api(client, operator, setup)).json()
    client_id = old["client_id"]
    response = await client.post(
        f"{API}/credentials/{client_id}/rotate",
        json={"overlap_seconds": 2},
        headers=operator.headers,
    )
    started = time.monotonic()
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    rotated = response.json()
    remember_shared(rotated)
    assert rotated["client_id"] == client_id
    assert rotated["overlap_seconds"] == 2
    assert rotated["client_secret"] != old["client_secret"]

    assert (await token_response(client, client_id, rotated["client_secret"])).status_code == 200
    assert (await token_response(client, client_id, old["client_secret"])).status_code == 200
    listed = await client.get(f"{API}/credentials/{client_id}", headers=operator.headers)
    assert listed.json()["usable_secrets"] == 2
    assert listed.json()["overlap_ends"] is not None

    await asyncio.sleep(max(0.0, 2.2 - (time.monotonic() - started)))
    assert (await token_response(client, client_id, old["client_secret"])).status_code == 401
    assert (await token_response(client, client_id, rotated["client_secret"])).status_code == 200


async def test_rotation_without_a_body_keeps_the_old_secret_for_a_day(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    client_id = (await issue_via_api(client, operator, setup)).json()["client_id"]
    response = await client.post(f"{API}/credentials/{client_id}/rotate", headers=operator.headers)
    assert response.status_code == 200
    remember_shared(response.json())
    assert response.json()["overlap_seconds"] == 86400


async def test_rotation_errors(client: httpx.AsyncClient, operator: Operator, setup: Setup) -> None:
    client_id = (await issue_via_api(client, operator, setup)).json()["client_id"]
    url = f"{API}/credentials/{client_id}/rotate"
    too_long = await client.post(
        url, json={"overlap_seconds": 31 * 86400}, headers=operator.headers
    )
    assert too_long.status_code == 422
    assert set(too_long.json()["errors"]) == {"overlap_seconds"}
    text = await client.post(url, json={"overlap_seconds": "1h"}, headers=operator.headers)
    assert text.json()["errors"] == {"overlap_seconds": "Must be an integer"}
    unknown = await client.post(
        f"{API}/credentials/nobody-00000000/rotate", headers=operator.headers
    )
    assert unknown.status_code == 404
    await client.delete(f"{API}/credentials/{client_id}", headers=operator.headers)
    revoked = await client.post(url, json={"overlap_seconds": 0}, headers=operator.headers)
    assert revoked.status_code == 409


async def test_revocation_stops_issued_tokens_within_a_second(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, gateway_app: Starlette
) -> None:
    shared = (await issue_via_api(client, operator, setup)).json()
    client_id = shared["client_id"]
    token = await access_token(client, client_id, shared["client_secret"])
    bearer = gateway_app.state.services.bearer
    assert (await bearer.check(token)).credential.client_id == client_id

    response = await client.delete(f"{API}/credentials/{client_id}", headers=operator.headers)
    revoked_at = time.monotonic()
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    assert response.json()["revoked_at"] is not None
    while True:
        try:
            await bearer.check(token)
        except TokenInvalid as exc:
            reason = exc.reason
            break
        assert time.monotonic() - revoked_at < 1.0, "token still accepted a second after revoke"
        await asyncio.sleep(0.005)
    assert "revoked" in reason
    assert (await token_response(client, client_id, shared["client_secret"])).status_code == 401

    again = await client.delete(f"{API}/credentials/{client_id}", headers=operator.headers)
    assert again.status_code == 409
    unknown = await client.delete(f"{API}/credentials/nobody-00000000", headers=operator.headers)
    assert unknown.status_code == 404


async def test_an_imported_pair_is_slow_hashed_flagged_weak_and_works(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    control: asyncpg.Connection,
) -> None:
    secret = "Spring2019!"
    remember(secret)
    client_id = f"legacy-{setup.lea.lower()}-01"
    body = {
        "district": setup.lea,
        "consumer": setup.consumer,
        "client_id": client_id,
        "client_secret": secret,
        "name": "From the old gateway",
    }
    response = await client.post(f"{API}/credentials/import", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    imported = response.json()
    assert imported["weak_secret"] is True
    assert imported["client_id"] == client_id
    assert imported["name"] == "From the old gateway"
    assert secret not in response.text, "an imported secret never goes back out"
    hash_kind = await control.fetchval(
        "SELECT s.hash_kind FROM credential_secrets s JOIN credentials c USING (credential_id)"
        " WHERE c.client_id = $1",
        client_id,
    )
    assert hash_kind == "argon2id"
    assert (await token_response(client, client_id, secret)).status_code == 200

    duplicate = await client.post(f"{API}/credentials/import", json=body, headers=operator.headers)
    assert duplicate.status_code == 409


async def test_an_import_holds_no_control_connection_while_its_secret_is_hashed(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    gateway_app: Starlette,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """argon2 takes tens of milliseconds; a pooled connection held through it serves nobody,
    and a burst of imports would hold the whole control pool."""
    services = gateway_app.state.services
    held = connections_held_while_hashing(services, monkeypatch)
    secret = "Autumn2018?"
    remember(secret)
    body = {
        "district": setup.lea,
        "consumer": setup.consumer,
        "client_id": f"legacy-{setup.lea.lower()}-held",
        "client_secret": secret,
        "name": "From the old gateway",
    }
    response = await client.post(f"{API}/credentials/import", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    assert held == [0]


async def test_a_strong_imported_secret_is_not_weak(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    secret = "Kq8#vR2!mZ7$wP4@tL9%xB6^nD3&hF5*"
    remember(secret)
    body = {
        "district": setup.lea,
        "consumer": setup.consumer,
        "client_id": f"strong-{setup.lea.lower()}-01",
        "client_secret": secret,
    }
    response = await client.post(f"{API}/credentials/import", json=body, headers=operator.headers)
    assert response.status_code == 201
    assert response.json()["weak_secret"] is False
    assert response.json()["name"] == "imported"


async def test_import_refuses_bad_fields_with_422(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    body = {
        "district": setup.lea,
        "consumer": setup.consumer,
        "client_id": "short",
        "client_secret": " padded ",
    }
    response = await client.post(f"{API}/credentials/import", json=body, headers=operator.headers)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"client_id"}, "the repository checks one at a time"
    body["client_id"] = f"padded-{setup.lea.lower()}"
    response = await client.post(f"{API}/credentials/import", json=body, headers=operator.headers)
    assert set(response.json()["errors"]) == {"client_secret"}
    missing = await client.post(
        f"{API}/credentials/import", json={"district": setup.lea}, headers=operator.headers
    )
    assert set(missing.json()["errors"]) == {"consumer", "client_id", "client_secret"}


async def test_listing_filters_by_district_and_consumer(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    first = (await issue_via_api(client, operator, setup)).json()["client_id"]
    second = (await issue_via_api(client, operator, setup)).json()["client_id"]
    response = await client.get(
        f"{API}/credentials",
        params={"district": setup.lea.lower(), "consumer": setup.consumer},
        headers=operator.headers,
    )
    assert response.status_code == 200
    listed = response.json()["items"]
    assert [c["client_id"] for c in listed] == [second, first], "newest first"
    assert {c["district"] for c in listed} == {setup.lea}
    none = await client.get(
        f"{API}/credentials", params={"consumer": "No Such Consumer"}, headers=operator.headers
    )
    assert none.json() == {"items": []}
    typo = await client.get(
        f"{API}/credentials", params={"distrct": "920"}, headers=operator.headers
    )
    assert typo.status_code == 422


async def test_the_operator_credential_is_listed_as_such(
    client: httpx.AsyncClient, operator: Operator
) -> None:
    response = await client.get(f"{API}/credentials/{operator.client_id}", headers=operator.headers)
    shown = response.json()
    assert shown["kind"] == "operator"
    assert shown["scopes"] == ["admin"]
    assert shown["district"] is None
