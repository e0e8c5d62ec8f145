"""The ID token checks (OpenID Connect Core §3.1.3.7), on tokens crafted with the real
provider's signing key: its discovery document and JWKS are the ones the gateway reads.

A token that passes is the baseline (the crafting is right); each other token breaks one
rule and must be refused with that rule's reason.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import pytest
from starlette.datastructures import Secret

from gateway.oidc.flows import FlowStore
from gateway.oidc.provider import OidcProvider, SignInFailed
from gateway.settings import OidcSettings
from tests.conftest import SESSION_MASTER_KEYS
from tests.oidc.provider import new_key
from tests.oidc.world import CLIENT_ID, OidcWorld

NONCE = "n-0S6_WzA2Mj"


def relying_party(world: OidcWorld) -> OidcProvider:
    config = OidcSettings(
        issuer=world.issuer, client_id=CLIENT_ID, client_secret=Secret(world.client_secret)
    )
    # The flow store is not touched by ID token checks.
    return OidcProvider(
        config, world.a.url("/login/oidc/callback"), FlowStore(None, SESSION_MASTER_KEYS)
    )  # type: ignore[arg-type]


def claims(world: OidcWorld, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": world.issuer,
        "sub": world.operator,
        "aud": CLIENT_ID,
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "groups": ["etranscripts-operators"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


async def check(rp: OidcProvider, token: str, nonce: str = NONCE) -> dict[str, Any]:
    return await rp.parse_id_token({"id_token": token, "access_token": "opaque"}, nonce)


async def test_a_token_signed_by_the_provider_passes(oidc_world: OidcWorld) -> None:
    rp = relying_party(oidc_world)
    found = await check(rp, oidc_world.provider.sign(claims(oidc_world)))
    assert found["sub"] == oidc_world.operator
    assert found["groups"] == ["etranscripts-operators"]


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    body = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    body["groups"] = ["etranscripts-operators", "etranscripts-920"]
    forged = base64.urlsafe_b64encode(json.dumps(body).encode()).decode().rstrip("=")
    return f"{header}.{forged}.{signature}"


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        ("tampered", "id_token_bad_signature"),
        ("someone_elses_key", "id_token_bad_signature"),
        ("wrong_nonce", "id_token_invalid_claim_nonce"),
        ("no_nonce", "id_token_missing_claim_nonce"),
        ("wrong_audience", "id_token_invalid_claim_aud"),
        ("expired", "id_token_expired_token_exp"),
        ("wrong_issuer", "id_token_invalid_claim_iss"),
        ("azp_of_another_client", "id_token_invalid_claim_azp"),
        ("several_audiences_without_azp", "id_token_missing_claim_azp"),
        ("no_subject", "id_token_missing_claim_sub"),
    ],
)
async def test_a_token_that_breaks_a_rule_is_refused(
    oidc_world: OidcWorld, case: str, reason: str
) -> None:
    world = oidc_world
    rp = relying_party(world)
    sign = world.provider.sign
    token = {
        "tampered": lambda: _tamper(sign(claims(world))),
        "someone_elses_key": lambda: sign(claims(world), key=new_key(world.provider.key.kid)),
        "wrong_nonce": lambda: sign(claims(world, nonce="another-sign-in")),
        "no_nonce": lambda: sign(claims(world, nonce=None)),
        "wrong_audience": lambda: sign(claims(world, aud="another-application")),
        "expired": lambda: sign(
            claims(world, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
        ),
        "wrong_issuer": lambda: sign(claims(world, iss="https://login.other-state.example")),
        "azp_of_another_client": lambda: sign(claims(world, aud=[CLIENT_ID, "other"], azp="other")),
        "several_audiences_without_azp": lambda: sign(claims(world, aud=[CLIENT_ID, "other"])),
        "no_subject": lambda: sign(claims(world, sub=None)),
    }[case]()
    with pytest.raises(SignInFailed) as refused:
        await check(rp, token)
    assert refused.value.reason == reason


async def test_an_unsigned_or_mac_signed_token_is_refused(oidc_world: OidcWorld) -> None:
    """`alg: none`, and HS256 keyed with something public, never pass (only asymmetric)."""
    from joserfc import jwt
    from joserfc.jwk import OctKey

    rp = relying_party(oidc_world)
    body = base64.urlsafe_b64encode(json.dumps(claims(oidc_world)).encode()).decode().rstrip("=")
    none = base64.urlsafe_b64encode(b'{"alg":"none"}').decode().rstrip("=") + f".{body}."
    mac = jwt.encode(
        {"alg": "HS256"}, claims(oidc_world), OctKey.import_key(oidc_world.client_secret)
    )
    for token in (none, mac):
        with pytest.raises(SignInFailed):
            await check(rp, token)


async def test_a_key_the_provider_retired_no_longer_signs(oidc_world: OidcWorld) -> None:
    """Rotation: after the provider drops a key from its JWKS, a token signed with it fails,
    even at a relying party that had cached the old JWKS."""
    world = oidc_world
    rp = relying_party(world)
    old = world.provider.key
    await check(rp, world.provider.sign(claims(world)))  # caches the JWKS with `old`
    await world.provider.rotate()
    assert (await check(rp, world.provider.sign(claims(world))))["sub"] == world.operator
    with pytest.raises(SignInFailed):
        await check(rp, world.provider.sign(claims(world), key=old))


async def test_a_withdrawn_key_stops_passing_within_the_jwks_age(oidc_world: OidcWorld) -> None:
    """The other direction of rotation: the provider withdraws a key (say, compromised) and
    signs with nothing new yet that would make us look. Once the cached JWKS is older than
    its age, it is read again, and the withdrawn key no longer vouches for anything."""
    from gateway.oidc import provider as module

    world = oidc_world
    rp = relying_party(world)
    old = world.provider.key
    await check(rp, world.provider.sign(claims(world)))  # caches the JWKS with `old`
    await world.provider.rotate()
    # Still cached, still trusted: the age has not passed.
    assert (await check(rp, world.provider.sign(claims(world), key=old)))["sub"]
    assert rp._jwks_seen_at is not None
    rp._jwks_seen_at -= module.JWKS_MAX_AGE_SECONDS + 1  # an hour later
    with pytest.raises(SignInFailed):
        await check(rp, world.provider.sign(claims(world), key=old))
