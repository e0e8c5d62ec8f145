"""POST /oauth2/token: RFC 6749 §4.4 client credentials, errors exactly as §5.2."""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator

import httpx
import jwt as pyjwt
import pytest
from starlette.applications import Starlette

from gateway.settings import Settings
from tests.conftest import client_from
from tests.factories import token_response
from tests.oauth.conftest import Pair


def assert_oauth_error(response: httpx.Response, status: int, error: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, str] = response.json()
    assert body["error"] == error
    assert set(body) <= {"error", "error_description", "error_uri"}
    return body


@pytest.mark.parametrize("post", [False, True], ids=["client_secret_basic", "client_secret_post"])
async def test_issues_a_jwt_access_token(client: httpx.AsyncClient, pair: Pair, post: bool) -> None:
    response = await token_response(client, pair.client_id, pair.secret, post=post)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "etranscripts"
    header = pyjwt.get_unverified_header(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    claims = pyjwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == claims["client_id"] == pair.client_id
    assert claims["district"] == pair.lea
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert claims["aud"] == "http://127.0.0.1:8000/api"
    assert claims["exp"] - claims["iat"] == 900
    assert len(claims["jti"]) == 32


async def test_form_urlencoded_basic_credentials_are_decoded(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
    raw = f"{pair.client_id}:{pair.secret}".replace("-", "%2D").replace("_", "%5F")
    header = "Basic " + base64.b64encode(raw.encode()).decode()
    response = await client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": header},
    )
    assert response.status_code == 200, response.text


async def test_wrong_secret_is_invalid_client_with_basic_challenge(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    response = await token_response(client, pair.client_id, pair.secret + "x")
    assert_oauth_error(response, 401, "invalid_client")
    assert response.headers["www-authenticate"].startswith("Basic")


async def test_unknown_client_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await token_response(client, "nobody-000-deadbeef", "etgs_nothing")
    assert_oauth_error(response, 401, "invalid_client")


async def test_no_client_authentication_is_invalid_client(client: httpx.AsyncClient) -> None:
    response = await client.post("/oauth2/token", data={"grant_type": "client_credentials"})
    assert_oauth_error(response, 401, "invalid_client")


async def test_two_authentication_methods_is_invalid_request(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    response = await client.post(
        "/oauth2/token",
        data={
            "grant_type": "client_credentials",
            "client_id": pair.client_id,
            "client_secret": pair.secret,
        },
        auth=(pair.client_id, pair.secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_missing_grant_type_is_invalid_request(client: httpx.AsyncClient, pair: Pair) -> None:
    response = await client.post("/oauth2/token", data={}, auth=(pair.client_id, pair.secret))
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type" in body["error_description"]


@pytest.mark.parametrize("grant", ["password", "authorization_code", "refresh_token", "urn:x"])
async def test_other_grants_are_unsupported(
    client: httpx.AsyncClient, pair: Pair, grant: str
) -> None:
    response = await client.post(
        "/oauth2/token", data={"grant_type": grant}, auth=(pair.client_id, pair.secret)
    )
    assert_oauth_error(response, 400, "unsupported_grant_type")


async def test_repeated_parameter_is_invalid_request(client: httpx.AsyncClient, pair: Pair) -> None:
    response = await client.post(
        "/oauth2/token",
        content="grant_type=client_credentials&grant_type=client_credentials",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(pair.client_id, pair.secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_json_body_is_invalid_request(client: httpx.AsyncClient, pair: Pair) -> None:
    response = await client.post(
        "/oauth2/token",
        json={"grant_type": "client_credentials"},
        auth=(pair.client_id, pair.secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_scope_outside_the_grant_is_invalid_scope(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    response = await token_response(client, pair.client_id, pair.secret, scope="etranscripts admin")
    assert_oauth_error(response, 400, "invalid_scope")
    ok = await token_response(client, pair.client_id, pair.secret, scope="etranscripts")
    assert ok.status_code == 200 and ok.json()["scope"] == "etranscripts"


async def test_empty_scope_is_treated_as_omitted(client: httpx.AsyncClient, pair: Pair) -> None:
    # RFC 6749 §3.2: "Parameters sent without a value MUST be treated as if they were omitted".
    response = await token_response(client, pair.client_id, pair.secret, scope="")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "etranscripts"


async def test_empty_client_secret_beside_basic_is_not_a_second_method(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    # Some clients (requests-oauthlib) send `client_id=...&client_secret=` with HTTP Basic: the
    # empty parameter is omitted (§3.2), so only one method is in use (§2.3).
    response = await client.post(
        "/oauth2/token",
        content=f"grant_type=client_credentials&client_id={pair.client_id}&client_secret=",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(pair.client_id, pair.secret),
    )
    assert response.status_code == 200, response.text
    # A non-empty secret beside Basic is still two methods.
    response = await client.post(
        "/oauth2/token",
        content="grant_type=client_credentials&client_secret=x",
        headers={"content-type": "application/x-www-form-urlencoded"},
        auth=(pair.client_id, pair.secret),
    )
    assert_oauth_error(response, 400, "invalid_request")


async def test_empty_grant_type_is_a_missing_grant_type(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    response = await token_response(client, pair.client_id, pair.secret, grant_type="")
    body = assert_oauth_error(response, 400, "invalid_request")
    assert "grant_type is required" in body["error_description"]


async def test_oversized_body_is_refused(client: httpx.AsyncClient, pair: Pair) -> None:
    """413 in the §5.2 form (not Starlette's plain text), whether the size is declared in
    Content-Length or only found while reading a chunked body."""
    form = "grant_type=client_credentials&pad=" + "x" * 20_000

    async def chunked() -> AsyncIterator[bytes]:
        yield form.encode()

    for content in (form, chunked()):
        response = await client.post(
            "/oauth2/token",
            content=content,
            headers={"content-type": "application/x-www-form-urlencoded"},
            auth=(pair.client_id, pair.secret),
        )
        body = assert_oauth_error(response, 413, "invalid_request")
        assert body["error_description"] == "The request body is larger than 16 KiB."


async def test_a_full_argon2_queue_is_503_temporarily_unavailable_with_retry_after(
    gateway_app: Starlette, app_settings: Settings
) -> None:
    """The token endpoint's clients read RFC 6749 §5.2 JSON: the bounded argon2 pool's 503
    reaches them as `temporarily_unavailable` (with Retry-After), not a problem document."""
    pool = gateway_app.state.services.slow_hashes
    gate = threading.Event()
    limit = app_settings.slow_hash_concurrency + app_settings.slow_hash_queue
    held = [asyncio.create_task(pool.run(gate.wait)) for _ in range(limit)]
    try:
        async with asyncio.timeout(60):
            while pool.admitted < limit:
                await asyncio.sleep(0.01)
        async with client_from(gateway_app, app_settings, "198.51.100.77") as client:
            # An unknown client still costs an argon2id check (against a dummy hash).
            response = await client.post(
                "/oauth2/token",
                data={"grant_type": "client_credentials"},
                auth=("nobody-at-all", "whatever-it-is"),
            )
    finally:
        gate.set()
        await asyncio.gather(*held)
    body = assert_oauth_error(response, 503, "temporarily_unavailable")
    assert body["error_description"].startswith("Too many sign-in checks")
    assert int(response.headers["retry-after"]) >= 1


async def test_get_is_not_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/oauth2/token")
    assert response.status_code == 405
