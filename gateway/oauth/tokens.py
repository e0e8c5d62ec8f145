"""Access tokens as JWTs (RFC 9068): minting and verification, pure functions.

Claims: iss, sub (the client id), aud (this gateway's API), client_id, exp, iat, jti, scope, and
for consumer credentials `district` (the LEA code the token may read, and only that).
Header: alg ES256, typ at+jwt (§2.1), kid.

ECDSA signatures are malleable: if (r, s) verifies, so does (r, n - s). A token is accepted only
in its canonical form, with s in the lower half (low-S, as Bitcoin's BIP 62 and libsecp256k1
require), and minted in that form; so one token has one spelling, and nothing that keys on the
token's text (a cache, a log search) can be fooled by a second one. Identity is the `jti`
anyway (revocation). `nbf` (RFC 7519 §4.1.5) is honoured when a token carries it.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from gateway.errors import GatewayError

ALG = "ES256"
TYP = "at+jwt"
LEEWAY_SECONDS = 30
# The order of the P-256 group (FIPS 186-4 D.1.2.3); an ES256 signature is r || s, 32 bytes
# each (RFC 7518 §3.4).
_P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_HALF_N = _P256_N // 2


class TokenInvalid(GatewayError):
    """The token is not one this gateway issued and would still honour. `reason` is safe to
    show the client: it says what failed, never anything about other tokens."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class AccessClaims:
    iss: str
    sub: str
    aud: str
    client_id: str
    exp: int
    iat: int
    jti: str
    scope: str
    district: str | None
    nbf: int | None = None

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    def as_dict(self) -> dict[str, Any]:
        claims: dict[str, Any] = {
            "iss": self.iss,
            "sub": self.sub,
            "aud": self.aud,
            "client_id": self.client_id,
            "exp": self.exp,
            "iat": self.iat,
            "jti": self.jti,
            "scope": self.scope,
        }
        if self.district is not None:
            claims["district"] = self.district
        if self.nbf is not None:
            claims["nbf"] = self.nbf
        return claims


def mint(
    key: ECKey,
    *,
    issuer: str,
    audience: str,
    client_id: str,
    scope: str,
    district: str | None,
    now: datetime,
    lifetime_seconds: int,
) -> tuple[str, AccessClaims]:
    iat = int(now.timestamp())
    claims = AccessClaims(
        iss=issuer,
        sub=client_id,
        aud=audience,
        client_id=client_id,
        exp=iat + lifetime_seconds,
        iat=iat,
        jti=uuid.uuid4().hex,
        scope=scope,
        district=district,
    )
    header = {"alg": ALG, "typ": TYP, "kid": key.kid}
    return low_s(jwt.encode(header, claims.as_dict(), key, algorithms=[ALG])), claims


def _b64decode(data: str) -> bytes:
    return base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))


def _signature_s(token: str) -> tuple[bytes, int] | None:
    signature = _b64decode(token.rsplit(".", 1)[-1])
    if len(signature) != 64:
        return None
    return signature[:32], int.from_bytes(signature[32:], "big")


def low_s(token: str) -> str:
    """The same token with its signature in canonical low-S form."""
    found = _signature_s(token)
    if found is None or found[1] <= _HALF_N:
        return token
    r, s = found
    signature = r + (_P256_N - s).to_bytes(32, "big")
    head = token.rsplit(".", 1)[0]
    return f"{head}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def is_canonical(token: str) -> bool:
    """Whether the signature is 64 bytes, canonically base64url-encoded, with low S."""
    encoded = token.rsplit(".", 1)[-1]
    try:
        found = _signature_s(token)
    except (ValueError, TypeError):
        return False
    if found is None or found[1] > _HALF_N:
        return False
    # Base64url has spare bits in its last character: only one spelling is accepted.
    return base64.urlsafe_b64encode(_b64decode(encoded)).rstrip(b"=").decode() == encoded


def _segment(data: str) -> dict[str, Any]:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(data + "=" * (-len(data) % 4)))
    except (ValueError, TypeError) as exc:
        raise TokenInvalid("malformed token") from exc
    if not isinstance(decoded, dict):
        raise TokenInvalid("malformed token")
    return decoded


def verify(
    token: str,
    key_for: Callable[[str], ECKey | None],
    *,
    issuer: str,
    audience: str,
    now: datetime,
    leeway: int = LEEWAY_SECONDS,
    check_time: bool = True,
) -> AccessClaims:
    """Check header, signature and claims; raise TokenInvalid naming the first failure.
    `check_time=False` skips exp/iat (revocation accepts an expired token of one's own)."""
    claims = verify_signature(token, key_for, issuer=issuer, audience=audience)
    if check_time:
        check_times(claims, now, leeway)
    return claims


def check_times(claims: AccessClaims, now: datetime, leeway: int = LEEWAY_SECONDS) -> None:
    stamp = int(now.timestamp())
    if stamp > claims.exp + leeway:
        raise TokenInvalid("token expired")
    if claims.iat > stamp + leeway:
        raise TokenInvalid("token issued in the future")
    if claims.nbf is not None and claims.nbf > stamp + leeway:
        raise TokenInvalid("token not yet valid")


def verify_signature(
    token: str, key_for: Callable[[str], ECKey | None], *, issuer: str, audience: str
) -> AccessClaims:
    """Everything about a token that does not change with time: header, signature, issuer,
    audience, and the claims being present."""
    parts = token.split(".")
    if len(parts) != 3 or len(token) > 4096:
        raise TokenInvalid("malformed token")
    header = _segment(parts[0])
    if header.get("alg") != ALG:
        raise TokenInvalid("unacceptable algorithm")  # alg none, HS256 key confusion, ...
    if header.get("typ") not in (TYP, "application/at+jwt"):
        raise TokenInvalid("not an access token (typ)")
    kid = header.get("kid")
    key = key_for(kid) if isinstance(kid, str) else None
    if key is None:
        raise TokenInvalid("unknown signing key")
    if not is_canonical(token):
        raise TokenInvalid("bad signature")  # (r, n - s) and other second spellings
    try:
        claims = jwt.decode(token, key, algorithms=[ALG]).claims
    except JoseError as exc:
        raise TokenInvalid("bad signature") from exc
    if claims.get("iss") != issuer:
        raise TokenInvalid("wrong issuer")
    aud = claims.get("aud")
    if aud != audience and not (isinstance(aud, list) and audience in aud):
        raise TokenInvalid("wrong audience")
    exp, iat = claims.get("exp"), claims.get("iat")
    if not isinstance(exp, int) or not isinstance(iat, int):
        raise TokenInvalid("missing exp or iat")
    nbf = claims.get("nbf")
    if nbf is not None and not isinstance(nbf, int):
        raise TokenInvalid("malformed nbf")
    try:
        return AccessClaims(
            iss=claims["iss"],
            sub=str(claims["sub"]),
            aud=audience,
            client_id=str(claims["client_id"]),
            exp=exp,
            iat=iat,
            jti=str(claims["jti"]),
            scope=str(claims.get("scope", "")),
            district=claims.get("district"),
            nbf=nbf,
        )
    except KeyError as exc:
        raise TokenInvalid(f"missing claim {exc.args[0]}") from exc
