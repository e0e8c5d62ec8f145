"""What the resource side accepts: only our own, unexpired, unrevoked ES256 at+jwt tokens of
the credential's district, with the checks wired to this gateway's issuer and audience. The
token's own decisions (header, signature, key confusion, times) are pure: test_decisions.py."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from starlette.applications import Starlette

from gateway.oauth import tokens
from gateway.oauth.bearer import BearerVerifier
from gateway.oauth.errors import BearerError, InsufficientScope, MissingToken
from tests.factories import access_token
from tests.oauth.conftest import Pair


def verifier(app: Starlette) -> BearerVerifier:
    bearer: BearerVerifier = app.state.services.bearer
    return bearer


async def test_a_fresh_token_passes_every_check(
    client: httpx.AsyncClient, gateway_app: Starlette, pair: Pair
) -> None:
    token = await access_token(client, pair.client_id, pair.secret)
    context = await verifier(gateway_app).authenticate(f"Bearer {token}", scope="etranscripts")
    assert context.district is not None and context.district.lea_code == pair.lea
    assert context.credential.client_id == pair.client_id
    assert context.claims.district == pair.lea


async def test_wrong_audience_and_issuer_are_refused(gateway_app: Starlette, pair: Pair) -> None:
    bearer = verifier(gateway_app)
    key = gateway_app.state.services.keys.signer
    now = datetime.now(UTC)
    for issuer, audience, reason in (
        (bearer.issuer, "https://elsewhere.example/api", "wrong audience"),
        ("https://evil.example", bearer.audience, "wrong issuer"),
    ):
        token, _ = tokens.mint(
            key,
            issuer=issuer,
            audience=audience,
            client_id=pair.client_id,
            scope="etranscripts",
            district=pair.lea,
            now=now,
            lifetime_seconds=900,
        )
        with pytest.raises(tokens.TokenInvalid, match=reason):
            await bearer.check(token)


async def test_token_for_another_district_than_its_credential(
    gateway_app: Starlette, pair: Pair
) -> None:
    bearer = verifier(gateway_app)
    key = gateway_app.state.services.keys.signer
    token, _ = tokens.mint(
        key,
        issuer=bearer.issuer,
        audience=bearer.audience,
        client_id=pair.client_id,
        scope="etranscripts",
        district="920",
        now=datetime.now(UTC),
        lifetime_seconds=900,
    )
    with pytest.raises(tokens.TokenInvalid, match="district"):
        await bearer.check(token)


async def test_bearer_header_errors_follow_rfc_6750(
    gateway_app: Starlette, client: httpx.AsyncClient, pair: Pair
) -> None:
    bearer = verifier(gateway_app)
    with pytest.raises(MissingToken) as missing:
        await bearer.authenticate(None, scope="etranscripts")
    assert missing.value.headers["WWW-Authenticate"] == 'Bearer realm="etranscript-gateway"'
    with pytest.raises(BearerError) as wrong_scheme:
        await bearer.authenticate("Basic abc", scope="etranscripts")
    assert 'error="invalid_token"' in wrong_scheme.value.headers["WWW-Authenticate"]
    token = await access_token(client, pair.client_id, pair.secret)
    with pytest.raises(InsufficientScope) as scope:
        await bearer.authenticate(f"Bearer {token}", scope="admin")
    assert scope.value.status == 403
    assert 'error="insufficient_scope"' in scope.value.headers["WWW-Authenticate"]


async def test_a_remembered_signature_still_meets_every_other_check(
    client: httpx.AsyncClient, gateway_app: Starlette, pair: Pair
) -> None:
    bearer = verifier(gateway_app)
    token = await access_token(client, pair.client_id, pair.secret)
    first = await bearer.check(token)
    assert (await bearer.check(token)).claims == first.claims  # second use: from memory
    later = datetime.now(UTC) + timedelta(seconds=900 + tokens.LEEWAY_SECONDS + 1)
    with pytest.raises(tokens.TokenInvalid, match="expired"):
        await bearer.check(token, now=later)
    # A change of signing keys forgets what was verified.
    keys = gateway_app.state.services.keys
    before = keys.generation
    await keys.load()
    assert keys.generation == before + 1
    assert (await bearer.check(token)).claims == first.claims
