"""The gateway's one exception tree.

    GatewayError
    ├── ConfigurationError          bad or missing settings; raised at boot, never per request
    ├── MigrationError              a migration cannot be applied (changed file, SQL error)
    ├── StoreUnavailable            a data store cannot be reached (or is down)          503
    │   └── PoolExhausted           no pooled connection came free in time               503
    ├── DecryptionFailed            a stored secret does not open (gateway.crypto.aead)
    ├── VendorFailure               a vendor's answer, as data (gateway.outgoing.failures)
    ├── TokenInvalid                an access token we would not honour (gateway.oauth.tokens)
    ├── NotSignedIn                 a web page needs a session: redirect to /login (gateway.web.auth)
    ├── SignInFailed                the identity provider's answer signs no one in (gateway.oidc)
    ├── InvalidLogoutToken          a back-channel logout token we refuse (gateway.oidc)
    ├── IntegrityViolation          a seeded district breaks a foreign key (tenants.synthetic)
    └── ProblemError                anything answered to an HTTP client (RFC 9457)
        ├── BadRequest              malformed input                                       400
        │   └── ValidationFailed    well-formed but invalid fields (carries `errors`)     422
        ├── Unauthorized            no or bad credentials on an API route                 401
        ├── Forbidden               authenticated, not allowed                            403
        ├── NotFound                no such thing, or not yours to know about             404
        ├── Conflict                clashes with current state (duplicate, hold)          409
        │   └── ConnectionNotReady  a batch through an untested/changed/retired connection 409
        ├── PayloadTooLarge         body over the configured bound                        413
        ├── UnsupportedMediaType                                                          415
        ├── RateLimited             slow down; carries Retry-After                        429
        └── ServiceUnavailable      overloaded or a dependency is down; Retry-After       503

OAuth endpoints answer in RFC 6749 §5.2 form instead; their errors live in
`gateway.oauth.errors` and derive from ProblemError so that a single handler renders both.
"""

from __future__ import annotations

from typing import Any, ClassVar


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigurationError(GatewayError):
    """A setting is missing or invalid. The message tells the operator what to set."""


class MigrationError(GatewayError):
    """A migration cannot be applied; nothing was changed by the failing file."""


class StoreUnavailable(GatewayError):
    """A data store cannot be reached, or it broke the connection (restart, outage)."""


class PoolExhausted(StoreUnavailable):
    """Every pooled connection stayed busy for the whole acquire timeout."""

    def __init__(self) -> None:
        super().__init__("no database connection came free in time")


class ProblemError(GatewayError):
    """An error with an HTTP answer, rendered as `application/problem+json` (RFC 9457)."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.headers = headers or {}
        self.extra = extra or {}

    def problem(self, instance: str | None = None, types: str = "") -> dict[str, Any]:
        """The RFC 9457 body. `type` is `{types}/{slug}`, where `types` is the gateway's own
        GATEWAY_BASE_URL + "/problems" (a URI the state controls, answered by GET
        /problems/{slug}); without one, "about:blank" (RFC 9457 §4.2.1)."""
        body: dict[str, Any] = {
            "type": f"{types}/{self.slug}" if types else "about:blank",
            "title": self.title,
            "status": self.status,
        }
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body

    def render(self, instance: str | None = None, types: str = "") -> tuple[dict[str, Any], str]:
        """(body, media type). OAuth errors override this with the RFC 6749 §5.2 form."""
        return self.problem(instance, types), "application/problem+json"


class BadRequest(ProblemError):
    status = 400
    slug = "bad-request"
    title = "Bad request"


class ValidationFailed(BadRequest):
    status = 422
    slug = "validation-failed"
    title = "Validation failed"

    def __init__(self, errors: dict[str, str], detail: str | None = None) -> None:
        super().__init__(detail or "Some fields are invalid.", extra={"errors": errors})
        self.errors = errors

    def __str__(self) -> str:
        return "; ".join(f"{field}: {message}" for field, message in self.errors.items())


class Unauthorized(ProblemError):
    status = 401
    slug = "unauthorized"
    title = "Unauthorized"


class Forbidden(ProblemError):
    status = 403
    slug = "forbidden"
    title = "Forbidden"


class NotFound(ProblemError):
    status = 404
    slug = "not-found"
    title = "Not found"


class Conflict(ProblemError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class ConnectionNotReady(Conflict):
    """A batch release refused: the connection's latest test is not valid for its current
    values, or it is retired. The detail says why and how to fix it."""

    slug = "connection-not-ready"
    title = "Connection not ready for a batch release"


class PayloadTooLarge(ProblemError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class UnsupportedMediaType(ProblemError):
    status = 415
    slug = "unsupported-media-type"
    title = "Unsupported media type"


class RateLimited(ProblemError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"

    def __init__(self, retry_after: int, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
        self.retry_after = retry_after


class ServiceUnavailable(ProblemError):
    status = 503
    slug = "service-unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str | None = None, *, retry_after: int = 5) -> None:
        # RFC 9110 §10.2.3: tell the client when to come back rather than let it hammer.
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})
