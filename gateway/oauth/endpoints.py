"""Token, revocation, introspection, metadata and JWKS endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.audit import Actor, AuditEvent
from gateway.body_limit import body_limit
from gateway.errors import ProblemError
from gateway.metrics import TOKENS_ISSUED
from gateway.oauth import keys as signing
from gateway.oauth import tokens
from gateway.oauth.client_auth import ClientAttempt, extract, parse_form
from gateway.oauth.errors import (
    InvalidRequest,
    InvalidScope,
    SlowDown,
    UnauthorizedClient,
    UnsupportedGrantType,
    as_oauth,
)
from gateway.problems import ProblemHandlers, problem_response
from gateway.request_context import client_address, services

GRANT = "client_credentials"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
FORM_LIMIT = 16 * 1024
OAUTH_PREFIX = "/oauth2/"


def actor_for(request: Request, attempt: ClientAttempt) -> Actor:
    return Actor(
        "consumer",
        attempt.client_id,
        client_address(request) or "unknown",
        request.state.request_id,
    )


async def _form_and_client(request: Request) -> tuple[dict[str, str], ClientAttempt]:
    form = parse_form(request.headers.get("content-type"), await request.body())
    return form, extract(request.headers.get("authorization"), form)


async def token(request: Request) -> Response:
    """RFC 6749 §4.4.2-4.4.3: client credentials in, a JWT access token out."""
    svc = services(request)
    form, attempt = await _form_and_client(request)
    actor = actor_for(request, attempt)
    credential = await svc.client_auth.authenticate(attempt, actor, "token.issue")
    if credential.kind == "operator":
        actor = Actor("operator", attempt.client_id, actor.source_addr, actor.request_id)

    def refuse(error: Exception, reason: str) -> Exception:
        svc.audit.add(
            AuditEvent(
                actor,
                "token.issue",
                "denied",
                credential.district_id,
                credential.client_id,
                {"reason": reason},
            )
        )
        return error

    grant_type = form.get("grant_type")
    if not grant_type:
        raise refuse(InvalidRequest("grant_type is required."), "no_grant_type")
    if grant_type != GRANT:
        raise refuse(UnsupportedGrantType(f"Only {GRANT} is supported."), "unsupported_grant_type")
    wait = await svc.token_rate.take(credential.client_id)
    if wait:
        raise refuse(SlowDown(wait), "rate_limited")

    district = None
    if credential.kind == "consumer":
        district = svc.directory.by_id(credential.district_id or 0)
        if district is None or not district.active:
            # The directory may trail a change by milliseconds: read this district once more.
            await svc.directory.refresh(credential.district_id or 0)
            district = svc.directory.by_id(credential.district_id or 0)
        if district is None or not district.active:
            raise refuse(
                UnauthorizedClient("The district of this credential is suspended."),
                "district_suspended",
            )

    granted = set(credential.scopes)
    requested = form.get("scope")
    if requested is not None:
        asked = set(requested.split())
        if not asked or not asked <= granted:
            raise refuse(
                InvalidScope("The requested scope is not granted to this client."), "invalid_scope"
            )
        granted = asked
    scope = " ".join(sorted(granted))

    now = datetime.now(UTC)
    lifetime = svc.settings.token_ttl_seconds
    if credential.expires_at is not None:
        lifetime = max(1, min(lifetime, int((credential.expires_at - now).total_seconds())))
    access_token, claims = tokens.mint(
        svc.keys.signer,
        issuer=svc.bearer.issuer,
        audience=svc.bearer.audience,
        client_id=credential.client_id,
        scope=scope,
        district=district.lea_code if district else None,
        now=now,
        lifetime_seconds=lifetime,
    )
    svc.usage.used(credential.credential_id)
    svc.audit.add(
        AuditEvent(
            actor,
            "token.issue",
            "success",
            credential.district_id,
            credential.client_id,
            {"jti": claims.jti, "scope": scope},
        )
    )
    TOKENS_ISSUED.inc()
    body = {
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": lifetime,
        "scope": scope,
    }
    return JSONResponse(body, headers=_NO_STORE)


async def revoke(request: Request) -> Response:
    """RFC 7009: the client revokes one of its own tokens; unknown tokens are not an error."""
    svc = services(request)
    form, attempt = await _form_and_client(request)
    actor = actor_for(request, attempt)
    credential = await svc.client_auth.authenticate(attempt, actor, "token.revoke")
    value = form.get("token")
    if not value:
        raise InvalidRequest("token is required.")
    try:
        claims = svc.bearer.claims(value, check_time=False)
    except tokens.TokenInvalid:
        return Response(status_code=200, headers=_NO_STORE)  # §2.2: invalid tokens are fine
    if claims.client_id != credential.client_id:
        svc.audit.add(
            AuditEvent(
                actor,
                "token.revoke",
                "denied",
                credential.district_id,
                credential.client_id,
                {"reason": "not_own_token"},
            )
        )
        raise UnauthorizedClient("The token was not issued to this client.")
    await svc.revoked.revoke(claims.jti, claims.client_id, datetime.fromtimestamp(claims.exp, UTC))
    svc.audit.add(
        AuditEvent(
            actor,
            "token.revoke",
            "success",
            credential.district_id,
            credential.client_id,
            {"jti": claims.jti},
        )
    )
    return Response(status_code=200, headers=_NO_STORE)


async def introspect(request: Request) -> Response:
    """RFC 7662: is this token active? Only for the client it was issued to (§4: a client
    learns nothing about other clients' tokens)."""
    svc = services(request)
    form, attempt = await _form_and_client(request)
    actor = actor_for(request, attempt)
    credential = await svc.client_auth.authenticate(attempt, actor, "token.introspect")
    value = form.get("token")
    if not value:
        raise InvalidRequest("token is required.")
    try:
        # RFC 7662 §2.2: active means "not expired"; the bearer leeway for clock skew at
        # resource servers does not apply to the issuer answering about its own token.
        context = await svc.bearer.check(value, expiry_leeway=0)
    except tokens.TokenInvalid:
        return JSONResponse({"active": False}, headers=_NO_STORE)
    if context.claims.client_id != credential.client_id:
        return JSONResponse({"active": False}, headers=_NO_STORE)
    body: dict[str, Any] = {"active": True, "token_type": "Bearer", **context.claims.as_dict()}
    return JSONResponse(body, headers=_NO_STORE)


def metadata_document(issuer: str) -> dict[str, Any]:
    """RFC 8414 §2 authorization server metadata."""
    auth_methods = ["client_secret_basic", "client_secret_post"]
    return {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth2/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": [GRANT],
        "response_types_supported": [],
        "scopes_supported": ["etranscripts", "admin"],
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint": f"{issuer}/oauth2/revoke",
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint": f"{issuer}/oauth2/introspect",
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "service_documentation": f"{issuer}/openapi.json",
        # RFC 9728 §4: where the protected resource (the `aud` of our tokens) describes itself.
        "protected_resources": [f"{issuer}/api"],
    }


def resource_metadata_document(issuer: str, audience: str) -> dict[str, Any]:
    """RFC 9728 §2 protected resource metadata for the eTranscripts and admin APIs. `resource`
    is exactly the `aud` claim of every access token this gateway issues, so a client or
    resource server can discover which audience to expect (RFC 9068 §3)."""
    return {
        "resource": audience,
        "authorization_servers": [issuer],
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "scopes_supported": ["etranscripts", "admin"],
        "bearer_methods_supported": ["header"],
        "resource_signing_alg_values_supported": [tokens.ALG],
        "resource_name": "eTranscript gateway API",
        "resource_documentation": f"{issuer}/openapi.json",
    }


async def resource_metadata(request: Request) -> Response:
    bearer = services(request).bearer
    return JSONResponse(
        resource_metadata_document(bearer.issuer, bearer.audience),
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def metadata(request: Request) -> Response:
    return JSONResponse(
        metadata_document(services(request).bearer.issuer),
        headers={"Cache-Control": "public, max-age=3600"},
    )


async def jwks(request: Request) -> Response:
    # Short cache: a rotated key is published this long before it signs (keys.ACTIVATION_DELAY).
    max_age = int(signing.JWKS_MAX_AGE.total_seconds())
    return JSONResponse(
        services(request).keys.jwks,
        headers={"Cache-Control": f"public, max-age={max_age}"},
        media_type="application/jwk-set+json",
    )


async def _oauth_error(request: Request, error: ProblemError) -> Response:
    """Errors under /oauth2/ in the RFC 6749 §5.2 form (see `errors.as_oauth`)."""
    return problem_response(as_oauth(error), instance=request.url.path)


def install(problems: ProblemHandlers) -> None:
    problems.register_html(OAUTH_PREFIX, _oauth_error)


def routes() -> list[Route]:
    return [
        Route("/oauth2/token", token, methods=["POST"], middleware=body_limit(FORM_LIMIT)),
        Route("/oauth2/revoke", revoke, methods=["POST"], middleware=body_limit(FORM_LIMIT)),
        Route(
            "/oauth2/introspect", introspect, methods=["POST"], middleware=body_limit(FORM_LIMIT)
        ),
        Route("/.well-known/oauth-authorization-server", metadata, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
        # RFC 9728 §3.1: the well-known path for the resource `{issuer}/api` is this one with
        # `/api` appended; the bare path is served too, because clients look there first.
        Route("/.well-known/oauth-protected-resource", resource_metadata, methods=["GET"]),
        Route("/.well-known/oauth-protected-resource/api", resource_metadata, methods=["GET"]),
    ]
