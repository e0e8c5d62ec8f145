"""Back-Channel Logout 1.0 §2.6, rule by rule, on tokens signed with a test key (pure)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from gateway.oidc.logout_token import (
    BACKCHANNEL_EVENT,
    InvalidLogoutToken,
    UnknownKey,
    validate,
)
from gateway.oidc.provider import ALGORITHMS
from tests.oidc.provider import new_key

ISSUER = "https://login.ncid.example.gov"
CLIENT = "etranscript-gateway"
KEY = new_key("current")
KEYS = KeySet([KEY])


def token(typ: str | None = "logout+jwt", key: Any = KEY, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": CLIENT,
        "iat": int(time.time()),
        "jti": "bWJq",
        "sub": "248289761001",
        "sid": "08a5019c-17e1-4977-8f42-65a12843ea02",
        "events": {BACKCHANNEL_EVENT: {}},
    }
    claims.update(changes)
    header: dict[str, Any] = {"alg": "RS256", "kid": key.kid}
    if typ:
        header["typ"] = typ
    return jwt.encode(header, {k: v for k, v in claims.items() if v is not None}, key)


def check(value: str) -> Any:
    return validate(value, KEYS, issuer=ISSUER, client_id=CLIENT, algorithms=ALGORITHMS)


def test_a_providers_logout_token_names_the_subject_and_session() -> None:
    logout = check(token())
    assert (logout.issuer, logout.subject, logout.sid) == (
        ISSUER,
        "248289761001",
        "08a5019c-17e1-4977-8f42-65a12843ea02",
    )


def test_sid_alone_or_sub_alone_is_enough() -> None:
    assert check(token(sub=None)).subject is None
    assert check(token(sid=None)).sid is None
    assert check(token(typ=None)).jti == "bWJq"


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"iss": "https://login.other.example"}, "wrong_issuer"),
        ({"aud": "another-application"}, "wrong_audience"),
        ({"iat": None}, "no_iat"),
        ({"iat": int(time.time()) - 3600}, "stale"),
        ({"jti": None}, "no_jti"),
        ({"events": None}, "no_logout_event"),
        ({"events": {BACKCHANNEL_EVENT: "yes"}}, "no_logout_event"),
        ({"nonce": "an ID token has one"}, "has_nonce"),
        ({"sub": None, "sid": None}, "no_sub_or_sid"),
        ({"typ": "at+jwt"}, "wrong_typ"),
    ],
)
def test_a_token_breaking_a_rule_is_refused(changes: dict[str, Any], reason: str) -> None:
    typ = changes.pop("typ", "logout+jwt")
    with pytest.raises(InvalidLogoutToken) as refused:
        check(token(typ, **changes))
    assert refused.value.reason == reason


def test_a_forged_signature_is_refused() -> None:
    with pytest.raises(InvalidLogoutToken) as refused:
        check(token(key=new_key("current")))
    assert refused.value.reason == "bad_signature"


def test_an_unknown_key_id_asks_for_the_jwks_again() -> None:
    with pytest.raises(UnknownKey):
        check(token(key=new_key("next")))
