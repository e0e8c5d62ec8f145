"""The resource side: who is calling an API route, checked from memory alone.

Signature (a published key of ours), typ, iss, aud, expiry with a small leeway, the token not
revoked (RFC 7009), its credential still active, unexpired and of an active consumer. Returns
what the route needs: the claims, the credential and, for consumer tokens, the district.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from gateway.oauth import tokens
from gateway.oauth.cache import CachedCredential, CredentialCache
from gateway.oauth.errors import BearerError, InsufficientScope, MissingToken
from gateway.oauth.keys import SigningKeys
from gateway.oauth.revocation import RevokedTokens
from tenants.directory import District, DistrictDirectory


@dataclass(frozen=True)
class TokenContext:
    claims: tokens.AccessClaims
    credential: CachedCredential
    district: District | None  # None for operator (admin) tokens


class BearerVerifier:
    def __init__(
        self,
        keys: SigningKeys,
        credentials: CredentialCache,
        revoked: RevokedTokens,
        directory: DistrictDirectory,
        *,
        issuer: str,
        audience: str,
    ) -> None:
        self._keys = keys
        self._credentials = credentials
        self._revoked = revoked
        self._directory = directory
        self.issuer = issuer
        self.audience = audience

    def claims(
        self, token: str, now: datetime | None = None, *, check_time: bool = True
    ) -> tokens.AccessClaims:
        """Signature and claims only (revocation uses it with check_time=False)."""
        return tokens.verify(
            token,
            self._keys.public_key,
            issuer=self.issuer,
            audience=self.audience,
            now=now or datetime.now(UTC),
            check_time=check_time,
        )

    async def check(self, token: str, now: datetime | None = None) -> TokenContext:
        """Everything that makes a token acceptable now; raises tokens.TokenInvalid.
        From memory, except one read when the credential is not cached yet (a token from
        another worker whose change notification has not arrived)."""
        now = now or datetime.now(UTC)
        claims = self.claims(token, now)
        if claims.jti in self._revoked:
            raise tokens.TokenInvalid("token revoked")
        credential = await self._credentials.lookup(claims.client_id)
        if credential is None or not credential.usable(now):
            raise tokens.TokenInvalid("credential revoked or expired")
        district = None
        if credential.kind == "consumer":
            district = self._directory.by_id(credential.district_id or 0)
            if district is None or district.lea_code != claims.district:
                raise tokens.TokenInvalid("token does not match its credential's district")
        return TokenContext(claims, credential, district)

    async def authenticate(self, authorization: str | None, scope: str) -> TokenContext:
        """From an Authorization header to a TokenContext, or an RFC 6750 error."""
        if not authorization:
            raise MissingToken()
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise BearerError("Use the Bearer scheme: Authorization: Bearer <token>.")
        try:
            context = await self.check(token.strip())
        except tokens.TokenInvalid as exc:
            raise BearerError(f"The access token is not valid: {exc.reason}.") from exc
        if scope not in context.claims.scopes:
            raise InsufficientScope(f"This route needs the {scope!r} scope.")
        return context
