"""Metadata (RFC 8414), JWKS, key rotation, revocation (RFC 7009), introspection (RFC 7662)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import jwt as pyjwt
from joserfc.jwk import ECKey
from starlette.applications import Starlette

from gateway.oauth import keys as signing
from gateway.oauth import tokens
from tests.factories import CONSUMER_ACTOR, access_token, issue
from tests.oauth.conftest import Pair


async def test_metadata_describes_the_server(client: httpx.AsyncClient) -> None:
    response = await client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    meta = response.json()
    issuer = "http://127.0.0.1:8000"
    assert meta["issuer"] == issuer
    assert meta["token_endpoint"] == f"{issuer}/oauth2/token"
    assert meta["jwks_uri"] == f"{issuer}/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert meta["revocation_endpoint"].endswith("/oauth2/revoke")
    assert meta["introspection_endpoint"].endswith("/oauth2/introspect")


async def verify_with_pyjwt(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    """An independent JOSE library, given only the published JWKS."""
    jwks = pyjwt.PyJWKSet.from_dict((await client.get("/.well-known/jwks.json")).json())
    kid = pyjwt.get_unverified_header(token)["kid"]
    key = next(k for k in jwks.keys if k.key_id == kid)
    claims: dict[str, object] = pyjwt.decode(
        token,
        key=key.key,
        algorithms=["ES256"],
        audience="http://127.0.0.1:8000/api",
        issuer="http://127.0.0.1:8000",
    )
    return claims


async def test_jwks_verifies_issued_tokens_with_an_independent_library(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    response = await client.get("/.well-known/jwks.json")
    assert response.headers["content-type"].startswith("application/jwk-set+json")
    for jwk in response.json()["keys"]:
        assert "d" not in jwk, "a private key part was published"
        assert jwk["kty"] == "EC" and jwk["alg"] == "ES256" and jwk["kid"]
    token = await access_token(client, pair.client_id, pair.secret)
    claims = await verify_with_pyjwt(client, token)
    assert claims["client_id"] == pair.client_id


async def test_key_rotation_keeps_old_tokens_verifiable(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    keys = gateway_app.state.services.keys
    old_token = await access_token(client, pair.client_id, pair.secret)
    old_kid = pyjwt.get_unverified_header(old_token)["kid"]
    result = await signing.rotate(
        control,
        gateway_app.state.settings.master_keys,
        timedelta(minutes=15),
        CONSUMER_ACTOR,
        activate_now=True,
    )
    assert result["retired"] == old_kid
    for _ in range(200):
        if keys.signer.kid == result["kid"]:
            break
        await asyncio.sleep(0.01)
    new_token = await access_token(client, pair.client_id, pair.secret)
    assert pyjwt.get_unverified_header(new_token)["kid"] == result["kid"]
    published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
    assert {old_kid, result["kid"]} <= published
    await verify_with_pyjwt(client, old_token)
    await verify_with_pyjwt(client, new_token)
    await gateway_app.state.services.bearer.check(old_token)
    # The private key is stored encrypted, not as a JWK in clear.
    row = await control.fetchrow(
        "SELECT private_key_enc FROM signing_keys WHERE kid = $1", result["kid"]
    )
    assert b'"d"' not in bytes(row["private_key_enc"])


async def test_rotation_publishes_the_next_key_before_signing_with_it(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    # Resource servers (jose, oauth4webapi) cache the JWKS for its max-age: a token signed by a
    # key they have not fetched is refused until then. So the next key is published first.
    keys = gateway_app.state.services.keys
    old_kid = keys.signer.kid
    jwks = await client.get("/.well-known/jwks.json")
    max_age = int(jwks.headers["cache-control"].split("max-age=")[1])
    result = await signing.rotate(
        control, gateway_app.state.settings.master_keys, timedelta(minutes=15), CONSUMER_ACTOR
    )
    new_kid = result["kid"]
    assert result["retired"] == old_kid
    assert (result["activates_at"] - datetime.now(UTC)).total_seconds() > max_age
    for _ in range(500):  # the change feed reaches this worker
        published = {k["kid"] for k in (await client.get("/.well-known/jwks.json")).json()["keys"]}
        if new_kid in published:
            break
        await asyncio.sleep(0.01)
    assert {old_kid, new_kid} <= published
    # Still signing with the old key, which every cached JWKS already holds.
    token = await access_token(client, pair.client_id, pair.secret)
    assert pyjwt.get_unverified_header(token)["kid"] == old_kid
    # Every worker switches by the clock at activates_at, and never before.
    just_before = result["activates_at"] - timedelta(milliseconds=1)
    assert keys.signer_at(just_before).kid == old_kid
    assert keys.signer_at(result["activates_at"]).kid == new_kid
    # Put things back for the other tests: sign with a fresh key at once.
    await signing.rotate(
        control,
        gateway_app.state.settings.master_keys,
        timedelta(minutes=15),
        CONSUMER_ACTOR,
        activate_now=True,
    )


def test_signer_at_picks_the_key_whose_window_holds_now() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    a, b, c = (ECKey.generate_key("P-256", parameters={"kid": k}) for k in "abc")
    windows = (
        signing.SigningWindow(a, None, t0 + timedelta(minutes=5)),
        signing.SigningWindow(b, t0 + timedelta(minutes=5), None),
    )
    assert signing.signer_at(windows, t0) is a
    assert signing.signer_at(windows, t0 + timedelta(minutes=5)) is b
    # An --activate-now rotation while b still waits: c signs at once, b never does.
    now = t0 + timedelta(minutes=1)
    windows = (
        signing.SigningWindow(a, None, t0 + timedelta(minutes=5)),
        signing.SigningWindow(b, t0 + timedelta(minutes=5), now),
        signing.SigningWindow(c, now, None),
    )
    assert signing.signer_at(windows, now) is c
    assert signing.signer_at(windows, t0 + timedelta(minutes=10)) is c
    assert signing.signer_at(windows, t0) is a


async def test_protected_resource_metadata_names_the_token_audience(
    client: httpx.AsyncClient, pair: Pair
) -> None:
    # RFC 9728 §2-3: `resource` is exactly the `aud` of our access tokens.
    token = await access_token(client, pair.client_id, pair.secret)
    aud = pyjwt.decode(token, options={"verify_signature": False})["aud"]
    for path in (
        "/.well-known/oauth-protected-resource",
        "/.well-known/oauth-protected-resource/api",
    ):
        response = await client.get(path)
        assert response.status_code == 200
        meta = response.json()
        assert meta["resource"] == aud == "http://127.0.0.1:8000/api"
        assert meta["authorization_servers"] == ["http://127.0.0.1:8000"]
        assert meta["jwks_uri"] == "http://127.0.0.1:8000/.well-known/jwks.json"
        assert meta["bearer_methods_supported"] == ["header"]
        assert "etranscripts" in meta["scopes_supported"]
    server = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert server["protected_resources"] == [aud]


async def test_introspection_has_no_leeway_after_exp(
    client: httpx.AsyncClient, gateway_app: Starlette, pair: Pair
) -> None:
    # RFC 7662 §2.2: a token past its `exp` is not active, however recently it expired (the
    # resource routes' leeway for clock skew is not the issuer's to apply to itself).
    bearer = gateway_app.state.services.bearer
    token, _ = tokens.mint(
        gateway_app.state.services.keys.signer,
        issuer=bearer.issuer,
        audience=bearer.audience,
        client_id=pair.client_id,
        scope="etranscripts",
        district=pair.lea,
        now=datetime.now(UTC) - timedelta(seconds=910),
        lifetime_seconds=900,
    )
    await bearer.check(token)  # within the bearer leeway (10 s past exp)
    response = await client.post(
        "/oauth2/introspect", data={"token": token}, auth=(pair.client_id, pair.secret)
    )
    assert response.json() == {"active": False}


async def test_revoke_own_token_then_it_is_refused(
    client: httpx.AsyncClient, gateway_app: Starlette, pair: Pair
) -> None:
    token = await access_token(client, pair.client_id, pair.secret)
    response = await client.post(
        "/oauth2/revoke", data={"token": token}, auth=(pair.client_id, pair.secret)
    )
    assert response.status_code == 200
    introspected = await client.post(
        "/oauth2/introspect", data={"token": token}, auth=(pair.client_id, pair.secret)
    )
    assert introspected.json() == {"active": False}
    # Unknown or garbage tokens are not an error (RFC 7009 §2.2).
    assert (
        await client.post(
            "/oauth2/revoke", data={"token": "garbage"}, auth=(pair.client_id, pair.secret)
        )
    ).status_code == 200


async def test_cannot_revoke_another_clients_token(
    client: httpx.AsyncClient, control: asyncpg.Connection, gateway_app: Starlette, pair: Pair
) -> None:
    other = await issue(control, pair.lea, pair.consumer, label="other")
    token = await access_token(client, pair.client_id, pair.secret)
    response = await client.post(
        "/oauth2/revoke", data={"token": token}, auth=(other.client_id, other.client_secret)
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    await gateway_app.state.services.bearer.check(token)  # still valid


async def test_introspection_only_for_the_tokens_own_client(
    client: httpx.AsyncClient, control: asyncpg.Connection, pair: Pair
) -> None:
    token = await access_token(client, pair.client_id, pair.secret)
    own = (
        await client.post(
            "/oauth2/introspect", data={"token": token}, auth=(pair.client_id, pair.secret)
        )
    ).json()
    assert own["active"] is True
    assert own["client_id"] == pair.client_id and own["district"] == pair.lea
    assert own["scope"] == "etranscripts" and own["token_type"] == "Bearer"
    other = await issue(control, pair.lea, pair.consumer, label="other")
    theirs = await client.post(
        "/oauth2/introspect", data={"token": token}, auth=(other.client_id, other.client_secret)
    )
    assert theirs.json() == {"active": False}
    unauthenticated = await client.post("/oauth2/introspect", data={"token": token})
    assert unauthenticated.status_code == 401
