"""The OAuth decisions that are pure functions, without a server or a database:
`tokens.verify` (RFC 9068 access tokens) and client authentication parsing (RFC 6749 §2.3)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwt as jose_jwt
from joserfc.jwk import ECKey, OctKey

from gateway.oauth import tokens
from gateway.oauth.client_auth import ClientAttempt, extract, parse_form
from gateway.oauth.errors import InvalidClient, InvalidRequest

ISSUER = "https://gw.example"
AUDIENCE = "https://gw.example/api"
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
KEY = ECKey.generate_key("P-256", parameters={"kid": "k1"})


def key_for(kid: str) -> ECKey | None:
    return KEY if kid == KEY.kid else None


def mint(key: ECKey = KEY, *, issuer: str = ISSUER, audience: str = AUDIENCE) -> str:
    token, _ = tokens.mint(
        key,
        issuer=issuer,
        audience=audience,
        client_id="c-1",
        scope="etranscripts",
        district="920",
        now=NOW,
        lifetime_seconds=900,
    )
    return token


def verify(token: str, now: datetime = NOW, **kw: bool) -> tokens.AccessClaims:
    return tokens.verify(token, key_for, issuer=ISSUER, audience=AUDIENCE, now=now, **kw)


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


# --- tokens.verify ---------------------------------------------------------------------------


def test_a_token_we_minted_verifies_to_its_claims() -> None:
    claims = verify(mint())
    assert (claims.client_id, claims.district, claims.scopes) == (
        "c-1",
        "920",
        frozenset({"etranscripts"}),
    )
    assert claims.exp - claims.iat == 900


def test_expiry_and_issue_time_allow_the_leeway_and_no_more() -> None:
    token = mint()
    leeway = timedelta(seconds=tokens.LEEWAY_SECONDS)
    assert verify(token, NOW + timedelta(seconds=900) + leeway)
    with pytest.raises(tokens.TokenInvalid, match="token expired"):
        verify(token, NOW + timedelta(seconds=901) + leeway)
    with pytest.raises(tokens.TokenInvalid, match="issued in the future"):
        verify(token, NOW - leeway - timedelta(seconds=1))
    # Revocation accepts an expired token of our own: the time checks are skipped, not the rest.
    assert verify(token, NOW + timedelta(days=1), check_time=False).client_id == "c-1"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "malformed token"),
        ("a.b", "malformed token"),
        ("x" * 4097 + ".a.b", "malformed token"),
        ("!!!.e30.sig", "malformed token"),
        (b64({"alg": "none", "typ": "at+jwt", "kid": "k1"}) + ".e30.", "unacceptable algorithm"),
        (b64({"alg": "ES256", "typ": "JWT", "kid": "k1"}) + ".e30.sig", "not an access token"),
        (b64({"alg": "ES256", "typ": "at+jwt"}) + ".e30.sig", "unknown signing key"),
        (b64({"alg": "ES256", "typ": "at+jwt", "kid": "k9"}) + ".e30.sig", "unknown signing key"),
    ],
)
def test_refusals_before_the_signature(token: str, reason: str) -> None:
    with pytest.raises(tokens.TokenInvalid, match=reason):
        verify(token)


def test_a_signature_by_another_key_or_hmac_with_our_public_key_is_refused() -> None:
    impostor = ECKey.generate_key("P-256", parameters={"kid": "k1"})
    with pytest.raises(tokens.TokenInvalid, match="bad signature"):
        verify(mint(impostor))
    # Key confusion (RFC 8725 §2.1): HS256 keyed with the published JWK.
    secret = OctKey.import_key(json.dumps(KEY.as_dict(private=False)).encode())
    claims = json.loads(base64.urlsafe_b64decode(mint().split(".")[1] + "=="))
    forged = jose_jwt.encode({"alg": "HS256", "typ": "at+jwt", "kid": "k1"}, claims, secret)
    with pytest.raises(tokens.TokenInvalid, match="unacceptable algorithm"):
        verify(forged)


def test_a_tampered_payload_fails_the_signature() -> None:
    header, payload, signature = mint().split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["district"] = "999"
    with pytest.raises(tokens.TokenInvalid, match="bad signature"):
        verify(f"{header}.{b64(claims)}.{signature}")


def test_issuer_and_audience_must_be_ours() -> None:
    with pytest.raises(tokens.TokenInvalid, match="wrong issuer"):
        verify(mint(issuer="https://evil.example"))
    with pytest.raises(tokens.TokenInvalid, match="wrong audience"):
        verify(mint(audience="https://elsewhere.example/api"))


# --- client authentication parsing -----------------------------------------------------------


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_a_form_body_is_parsed_and_a_repeated_parameter_refused() -> None:
    form_type = "application/x-www-form-urlencoded; charset=utf-8"
    assert parse_form(form_type, b"grant_type=client_credentials&scope=") == {
        "grant_type": "client_credentials",
        "scope": "",
    }
    assert parse_form(None, b"") == {}
    with pytest.raises(InvalidRequest, match="repeated"):
        parse_form(form_type, b"scope=a&scope=b")
    with pytest.raises(InvalidRequest, match="x-www-form-urlencoded"):
        parse_form("application/json", b"{}")
    with pytest.raises(InvalidRequest, match="not valid form data"):
        parse_form(form_type, b"\xff\xfe=1")


def test_basic_credentials_are_form_decoded_first() -> None:
    # RFC 6749 §2.3.1: id and secret are form-urlencoded before the Basic encoding.
    attempt = extract(basic("c%3A1", "s+p%25"), {})
    assert attempt == ClientAttempt("c:1", "s p%", "client_secret_basic")
    assert extract(basic("c1", "s"), {"client_id": "c1"}).client_id == "c1"


def test_post_credentials_need_the_client_id() -> None:
    attempt = extract(None, {"client_id": "c1", "client_secret": "s"})
    assert attempt == ClientAttempt("c1", "s", "client_secret_post")
    with pytest.raises(InvalidRequest, match="client_id is required"):
        extract(None, {"client_secret": "s"})


@pytest.mark.parametrize(
    ("authorization", "form", "error", "message"),
    [
        (None, {}, InvalidClient, "required"),
        ("Bearer abc", {}, InvalidClient, "HTTP Basic"),
        ("Basic !!!", {}, InvalidClient, "Malformed"),
        ("Basic " + base64.b64encode(b"no-colon").decode(), {}, InvalidClient, "Malformed"),
        ("Basic " + base64.b64encode(b"\xff:x").decode(), {}, InvalidClient, "Malformed"),
        (basic("c1", "s"), {"client_secret": "s"}, InvalidRequest, "one client authentication"),
        (basic("c1", "s"), {"client_id": "c2"}, InvalidRequest, "differs"),
    ],
)
def test_client_authentication_refusals(
    authorization: str | None, form: dict[str, str], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        extract(authorization, form)
