"""OAuth error answers, exactly as RFC 6749 §5.2 (token endpoint) and RFC 6750 §3 (bearer).

Token-endpoint errors are JSON `{"error": ..., "error_description": ...}` with
`Cache-Control: no-store`. `invalid_client` is 401 and, because the client may have tried HTTP
Basic, carries `WWW-Authenticate: Basic` (§5.2). Bearer errors on resource routes are problem
documents carrying `WWW-Authenticate: Bearer error="..."`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from gateway.errors import ProblemError

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(ProblemError):
    status = 400
    error: ClassVar[str] = "invalid_request"

    def __init__(self, description: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description, headers={**_NO_STORE, **(headers or {})})
        self.description = description

    def render(self, instance: str | None = None, types: str = "") -> tuple[dict[str, Any], str]:
        return {"error": self.error, "error_description": self.description}, "application/json"


class InvalidRequest(OAuthError):
    error = "invalid_request"


class InvalidClient(OAuthError):
    status = 401
    error = "invalid_client"

    def __init__(self, description: str = "Client authentication failed.") -> None:
        super().__init__(
            description, headers={"WWW-Authenticate": 'Basic realm="etranscript-gateway"'}
        )


class UnauthorizedClient(OAuthError):
    error = "unauthorized_client"


class UnsupportedGrantType(OAuthError):
    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    error = "invalid_scope"


class UnsupportedTokenType(OAuthError):
    error = "unsupported_token_type"


class SlowDown(OAuthError):
    """Too many token requests from one client (429 with Retry-After).

    `slow_down` is registered for the token endpoint response (RFC 8628 §3.5, IANA OAuth
    Extensions Error Registry): it says "this client, slower". `temporarily_unavailable`
    (below) says "the server, later", for a 503."""

    status = 429
    error = "slow_down"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            "Too many token requests; retry later.",
            headers={"Retry-After": str(max(1, retry_after))},
        )


class TooLarge(OAuthError):
    """The form is over the endpoint's bound: 413, in the §5.2 form (invalid_request)."""

    status = 413
    error = "invalid_request"


class TemporarilyUnavailable(OAuthError):
    """Overloaded or a dependency is down (503, with Retry-After). RFC 6749 defines the code
    for the authorization endpoint (§4.1.2.1); token endpoint clients that read §5.2 JSON
    know it too, and a problem document they would not parse at all."""

    status = 503
    error = "temporarily_unavailable"


class ServerError(OAuthError):
    """An unexpected error (500), §4.1.2.1's `server_error`."""

    status = 500
    error = "server_error"


def as_oauth(error: ProblemError) -> ProblemError:
    """The RFC 6749 §5.2 form of an error raised at an OAuth endpoint outside its own code
    (the body bound, the argon2 queue, a store outage, a bug); others are left as they are
    (a 404 or 405 of the path itself). Headers such as Retry-After are kept."""
    if isinstance(error, OAuthError):
        return error
    kinds: dict[int, type[OAuthError]] = {
        413: TooLarge,
        503: TemporarilyUnavailable,
        500: ServerError,
    }
    kind = kinds.get(error.status)
    if kind is None:
        return error
    converted = kind(error.detail or error.title)
    converted.headers.update(error.headers)
    return converted


class BearerError(ProblemError):
    """RFC 6750 §3: a problem document plus the WWW-Authenticate challenge."""

    status = 401
    slug = "invalid-token"
    title = "Invalid access token"
    code: ClassVar[str] = "invalid_token"

    def __init__(self, detail: str) -> None:
        escaped = detail.replace("\\", "").replace('"', "'")
        challenge = f'Bearer realm="etranscript-gateway", error="{self.code}", error_description="{escaped}"'
        super().__init__(detail, headers={"WWW-Authenticate": challenge})


class MissingToken(ProblemError):
    status = 401
    slug = "missing-token"
    title = "Access token required"

    def __init__(self) -> None:
        # RFC 6750 §3.1: no error code when the request carried no credentials at all.
        super().__init__(
            "Send an access token: Authorization: Bearer <token>.",
            headers={"WWW-Authenticate": 'Bearer realm="etranscript-gateway"'},
        )


class InsufficientScope(BearerError):
    status = 403
    slug = "insufficient-scope"
    title = "Insufficient scope"
    code = "insufficient_scope"
