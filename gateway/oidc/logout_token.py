"""Is this logout token the provider's? OpenID Connect Back-Channel Logout 1.0 §2.6.

Pure: a token, the provider's key set and what we expect in; the claims that say whose
sessions to end out, or `InvalidLogoutToken` saying which rule the token broke (the
back-channel endpoint answers 400 with it, §2.8).
"""

from __future__ import annotations

import time
from collections.abc import Collection
from dataclasses import dataclass

from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet

from gateway.errors import GatewayError

BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
MAX_TOKEN = 16 * 1024
# §2.6 leaves "too old" to us; a logout token is sent the moment the provider ends a session.
MAX_AGE_SECONDS = 300
LEEWAY_SECONDS = 60


class InvalidLogoutToken(GatewayError):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class UnknownKey(InvalidLogoutToken):
    """Signed with a key id the key set does not hold: perhaps a rotation; fetch and retry."""

    def __init__(self) -> None:
        super().__init__("unknown_key")


@dataclass(frozen=True)
class Logout:
    issuer: str
    subject: str | None
    sid: str | None
    jti: str


def validate(
    token: str,
    keys: KeySet,
    *,
    issuer: str,
    client_id: str,
    algorithms: Collection[str],
    now: float | None = None,
) -> Logout:
    if len(token) > MAX_TOKEN:
        raise InvalidLogoutToken("too_large")
    try:
        decoded = jwt.decode(token, keys, algorithms=list(algorithms))
    except InvalidKeyIdError:
        raise UnknownKey() from None
    except (JoseError, ValueError):
        raise InvalidLogoutToken("bad_signature") from None
    typ = decoded.header.get("typ")
    # §2.4: "logout+jwt" is RECOMMENDED, and older providers send "JWT" or nothing; any other
    # explicit type (an access token's "at+jwt") is some other token. What keeps an ID token
    # from passing is below: it has no logout event, and may have a nonce.
    if typ is not None and str(typ).lower() not in ("logout+jwt", "application/logout+jwt", "jwt"):
        raise InvalidLogoutToken("wrong_typ")
    claims = decoded.claims
    now = time.time() if now is None else now
    if claims.get("iss") != issuer:
        raise InvalidLogoutToken("wrong_issuer")
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if client_id not in audiences:
        raise InvalidLogoutToken("wrong_audience")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidLogoutToken("no_iat")
    if iat > now + LEEWAY_SECONDS or iat < now - MAX_AGE_SECONDS:
        raise InvalidLogoutToken("stale")
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp < now - LEEWAY_SECONDS):
        raise InvalidLogoutToken("expired")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise InvalidLogoutToken("no_jti")
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(BACKCHANNEL_EVENT), dict):
        raise InvalidLogoutToken("no_logout_event")
    if "nonce" in claims:
        # §2.6 rule 7: a nonce makes it an ID token, which must not be accepted as this.
        raise InvalidLogoutToken("has_nonce")
    sub, sid = claims.get("sub"), claims.get("sid")
    subject = sub if isinstance(sub, str) and sub else None
    session = sid if isinstance(sid, str) and sid else None
    if subject is None and session is None:
        raise InvalidLogoutToken("no_sub_or_sid")
    return Logout(issuer, subject, session, jti)
