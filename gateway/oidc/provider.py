"""The gateway as an OpenID relying party, on authlib's Starlette client.

authlib does the protocol: discovery (OpenID Connect Discovery 1.0), the authorization code
flow with PKCE S256 (RFC 7636), `state` and `nonce`, the code exchange, and the ID token's
signature against the provider's JWKS (fetched on first use, fetched again when a token names
a key id it does not know: that is how a key rotation is followed). What authlib checks only
when told, this module tells it (`_id_token_options`): `iss` is the configured issuer, `aud`
holds our client id, `exp`, `iat`, `sub` and `nonce` are present. It checks `azp` (Core
§3.1.3.7 rule 4-5) and `at_hash` itself.

Nothing here holds a database connection while it waits for the provider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from starlette.requests import Request
from starlette.responses import RedirectResponse

from gateway.authlib_clients import OAuth, OAuthError, PrivateKeyJWT
from gateway.errors import GatewayError
from gateway.oidc.flows import FlowStore
from gateway.settings import OidcSettings

APP_NAME = "state"
# Signatures we accept on ID and logout tokens: asymmetric only (never `none`, never a MAC
# keyed with the client secret), whatever the metadata offers.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA")
LEEWAY_SECONDS = 60
TIMEOUT = httpx.Timeout(10.0)
# A logout token naming an unknown key makes us fetch the JWKS again at most this often: the
# back-channel endpoint is public, and must not let anyone make us hammer the provider.
JWKS_REFETCH_SECONDS = 30.0
# How long the JWKS and the metadata are trusted before they are read again. An unknown key id
# fetches the JWKS at once (rotation); this is for the other direction: a key the provider
# withdrew (compromised, retired) stops being accepted within the hour, without a restart.
JWKS_MAX_AGE_SECONDS = 3600.0
METADATA_MAX_AGE_SECONDS = 24 * 3600.0


class SignInFailed(GatewayError):
    """The provider's answer does not sign anyone in; `reason` is a stable code for the audit."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in (validated ID token claims, userinfo merged)."""

    issuer: str
    subject: str
    email: str | None
    name: str | None
    sid: str | None
    claims: Mapping[str, Any]


def _text(value: Any, limit: int) -> str | None:
    return value[:limit] if isinstance(value, str) and value.strip() else None


class OidcProvider:
    """One configured provider; shared by a worker's requests."""

    def __init__(self, config: OidcSettings, redirect_uri: str, flows: FlowStore) -> None:
        self.config = config
        self.redirect_uri = redirect_uri
        kwargs: dict[str, Any] = {
            "scope": " ".join(config.scopes),
            "code_challenge_method": "S256",
            "timeout": TIMEOUT,
        }
        extra: dict[str, Any] = {}
        if config.private_key is not None:
            # RFC 7523 §2.2: a JWT signed with our key instead of a shared secret.
            kwargs["token_endpoint_auth_method"] = "private_key_jwt"  # noqa: S105 (a method name)
            extra["client_auth_methods"] = [PrivateKeyJWT()]
            secret: Any = _private_key(str(config.private_key))
        else:
            secret = str(config.client_secret)
        self._oauth = OAuth(cache=flows)
        self._oauth.register(
            APP_NAME,
            client_id=config.client_id,
            client_secret=secret,
            server_metadata_url=config.metadata_url,
            client_kwargs=kwargs,
            **extra,
        )
        self._last_forced_jwks = 0.0
        self._jwks_seen_at: float | None = None

    @property
    def _app(self) -> Any:
        return self._oauth.create_client(APP_NAME)

    @property
    def name(self) -> str:
        return self.config.provider_name

    @property
    def state_key_prefix(self) -> str:
        """Where authlib keeps its per-browser marker in `request.session` (its naming)."""
        return f"_state_{APP_NAME}_"

    def _expire(self, now: float) -> None:
        """Forget a JWKS or metadata past its age, so that authlib reads it again."""
        cached = self._app.server_metadata
        if "jwks" not in cached:
            self._jwks_seen_at = None
        elif self._jwks_seen_at is None:
            self._jwks_seen_at = now
        elif now - self._jwks_seen_at > JWKS_MAX_AGE_SECONDS:
            del cached["jwks"]
            self._jwks_seen_at = None
        loaded_at = cached.get("_loaded_at")
        if isinstance(loaded_at, float) and time.time() - loaded_at > METADATA_MAX_AGE_SECONDS:
            jwks = cached.get("jwks")
            cached.clear()
            if jwks is not None:
                cached["jwks"] = jwks

    async def metadata(self) -> dict[str, Any]:
        """The provider's metadata (Discovery §4), checked (§4.3), read again once a day."""
        app = self._app
        self._expire(time.monotonic())
        loaded = "_loaded_at" in app.server_metadata
        metadata: dict[str, Any] = await app.load_server_metadata()
        if not loaded:
            if metadata.get("issuer") != self.config.issuer:
                # §4.3: the issuer in the metadata MUST be the one we asked; else it is not
                # this provider's, and its keys would vouch for someone else's tokens.
                app.server_metadata.clear()
                raise SignInFailed("issuer_mismatch")
            offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
            metadata["id_token_signing_alg_values_supported"] = [
                a for a in offered if a in ALGORITHMS
            ]
        return metadata

    async def authorize_redirect(self, request: Request) -> RedirectResponse:
        """The redirect to the provider's authorization endpoint (state, nonce, PKCE)."""
        await self.metadata()
        response: RedirectResponse = await self._app.authorize_redirect(request, self.redirect_uri)
        return response

    def _id_token_options(self) -> dict[str, Any]:
        # Fresh each time: authlib pops entries out of the options it is given.
        return {
            "iss": {"essential": True, "value": self.config.issuer},
            "aud": {"essential": True, "values": [self.config.client_id]},
            "sub": {"essential": True},
            "exp": {"essential": True},
            "iat": {"essential": True},
            "nonce": {"essential": True},
        }

    async def parse_id_token(self, token: Mapping[str, Any], nonce: str) -> dict[str, Any]:
        """Validate `token["id_token"]` (signature, iss, aud, exp, iat, nonce, azp, at_hash);
        its claims, or SignInFailed."""
        await self.metadata()
        try:
            claims = await self._app.parse_id_token(
                dict(token), nonce, claims_options=self._id_token_options(), leeway=LEEWAY_SECONDS
            )
        except (JoseError, ValueError) as exc:
            raise SignInFailed(f"id_token_{_code(exc)}") from None
        if claims is None:
            raise SignInFailed("no_id_token")
        return dict(claims)

    async def finish(self, request: Request) -> Identity:
        """The callback: check state, exchange the code, validate the ID token."""
        await self.metadata()
        try:
            token = await self._app.authorize_access_token(
                request, claims_options=self._id_token_options(), leeway=LEEWAY_SECONDS
            )
        except OAuthError as exc:
            raise SignInFailed(_oauth_code(exc)) from None
        except JoseError as exc:
            raise SignInFailed(f"id_token_{_code(exc)}") from None
        except httpx.HTTPError as exc:
            raise SignInFailed(f"provider_unreachable_{type(exc).__name__}") from None
        claims = token.get("userinfo")
        if not claims:
            raise SignInFailed("no_id_token")
        claims = dict(claims)
        if any(name not in claims for name in (self.config.groups_claim, "email")):
            claims = await self._with_userinfo(token, claims)
        return Identity(
            issuer=str(claims["iss"]),
            subject=str(claims["sub"]),
            email=_text(claims.get("email"), 320),
            name=_text(claims.get("name"), 200),
            sid=_text(claims.get("sid"), 255),
            claims=claims,
        )

    async def _with_userinfo(
        self, token: Mapping[str, Any], claims: dict[str, Any]
    ) -> dict[str, Any]:
        """Providers that keep scope claims (groups, email) out of the ID token give them at the
        UserInfo endpoint (Core §5.4); its `sub` MUST match the ID token's (§5.3.2), else it is
        not this person's. The ID token's own claims win."""
        if not (await self.metadata()).get("userinfo_endpoint"):
            return claims
        try:
            info = await self._app.userinfo(token=dict(token))
        except (OAuthError, httpx.HTTPError, ValueError):
            return claims
        if info.get("sub") != claims["sub"]:
            raise SignInFailed("userinfo_subject_mismatch")
        return {**{k: v for k, v in info.items() if k not in claims}, **claims}

    async def end_session_url(self, post_logout_redirect_uri: str) -> str | None:
        """RP-Initiated Logout 1.0 §2: where to send the browser, if the provider says."""
        try:
            metadata = await self.metadata()
        except (SignInFailed, httpx.HTTPError, ValueError):
            return None
        if not metadata.get("end_session_endpoint"):
            return None
        result = await self._app.create_logout_url(
            post_logout_redirect_uri=post_logout_redirect_uri, client_id=self.config.client_id
        )
        url: str = result["url"]
        return url

    async def key_set(self, *, unknown_kid: bool = False) -> KeySet:
        """The provider's signing keys; fetched again for an unknown kid, rate-limited."""
        app = self._app
        await self.metadata()
        force = unknown_kid and time.monotonic() - self._last_forced_jwks > JWKS_REFETCH_SECONDS
        if force:
            self._last_forced_jwks = time.monotonic()
        return KeySet.import_key_set(await app.fetch_jwk_set(force=force))


def _private_key(text: str) -> Any:
    """A PEM as it is, a JWK given as JSON as a dict (authlib/joserfc import both)."""
    stripped = text.strip()
    return json.loads(stripped) if stripped.startswith("{") else stripped


def _code(exc: BaseException) -> str:
    """`invalid_claim_aud`, `expired_token`, `bad_signature`: what the audit records."""
    error = getattr(exc, "error", None)
    code = error if isinstance(error, str) and error.isidentifier() else type(exc).__name__
    claim = getattr(exc, "claim", None)
    return f"{code}_{claim}" if isinstance(claim, str) and claim.isidentifier() else code


def _oauth_code(exc: OAuthError) -> str:
    error = getattr(exc, "error", None)
    if isinstance(error, str) and error.replace("_", "").isalnum() and len(error) <= 64:
        return error
    return type(exc).__name__
