"""Staff sign-in through the state's OpenID provider: the routes.

    GET  /login/oidc                       → the provider's authorization endpoint
    GET  /login/oidc/callback              ← the provider, with `code` and `state`
    POST /login/oidc/backchannel-logout    ← the provider, server to server (Back-Channel
                                             Logout 1.0 §2.5): ends the named sessions

The sign-in ends in the gateway's own server-side session, as a password sign-in does
(`gateway.web.sessions`); nothing of the provider's (no token) is kept in it. Every sign-in,
refusal and sign-out is audited with the issuer, the subject, the outcome and the address.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import time
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.audit import Actor, AuditEvent
from gateway.control import users
from gateway.errors import Forbidden, NotFound
from gateway.oidc import logout_token
from gateway.oidc.flows import LIFETIME_SECONDS
from gateway.oidc.provider import ALGORITHMS, Identity, OidcProvider, SignInFailed
from gateway.oidc.roles import Refusal, role_for
from gateway.request_context import client_address, services
from gateway.web import sessions
from gateway.web.login import _safe_next as safe_next
from gateway.web.login import home_for, set_session_cookie
from gateway.web.pages import current, page, redirect, render

# Binds the callback to the browser that started the sign-in (RFC 6749 §10.12): it holds
# the `state` sent to the provider. SameSite=Lax, since the provider's redirect back is a
# cross-site top-level navigation that Strict would strip the cookie from.
FLOW_COOKIE = "etg_oidc_flow"
FLOW_PATH = "/login/oidc"
MAX_COOKIE = 2048


def provider_of(request: Request) -> OidcProvider:
    provider = services(request).oidc
    if provider is None:
        raise NotFound("Sign-in through the state's provider is not set up here.")
    return provider


async def sign_in_choices(request: Request, *, local_in_use: bool = False) -> dict[str, Any]:
    """What the sign-in page offers: the provider's button, and local sign-in below it when
    it is switched on and there is a local account to use (break-glass)."""
    svc = services(request)
    local = svc.settings.local_login
    if local and svc.oidc is not None and not local_in_use:
        async with svc.stores.control.acquire() as conn:
            local = await users.any_local(conn)
    return {"oidc_name": svc.oidc.name if svc.oidc else None, "local_login": local}


def _flow_cookie(state: str, next_path: str) -> str:
    return f"{state}.{base64.urlsafe_b64encode(next_path.encode()).decode().rstrip('=')}"


def _read_flow_cookie(raw: str) -> tuple[str, str]:
    state, _, encoded = raw[:MAX_COOKIE].partition(".")
    try:
        next_path = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        next_path = ""
    return state, safe_next(next_path) or ""


def _audit(
    request: Request,
    outcome: str,
    reason: str | None = None,
    *,
    identity: Identity | None = None,
    user: users.WebUser | None = None,
    action: str = "web.login",
    **detail: Any,
) -> None:
    kind = "anonymous" if user is None else "operator" if user.is_operator else "district_user"
    name = user.email if user else (identity.email or identity.subject) if identity else "-"
    facts: dict[str, Any] = {"method": "oidc", **detail}
    if identity is not None:
        facts |= {"issuer": identity.issuer, "subject": identity.subject}
    if reason:
        facts["reason"] = reason
    services(request).audit.add(
        AuditEvent(
            Actor(kind, name, client_address(request) or "unknown", request.state.request_id),
            action,
            outcome,
            user.district_id if user else None,
            detail=facts,
        )
    )


def refused(request: Request, message: str, status: int) -> Response:
    response = render(request, "oidc_refused.html", status=status, message=message)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


async def start(request: Request) -> Response:
    provider = provider_of(request)
    user = current(request)
    if user is not None:
        return redirect(home_for(user))
    # authlib keeps its per-browser marker in `request.session`; the gateway has no cookie
    # session before sign-in, so it gets a fresh dict and the marker goes into FLOW_COOKIE.
    marker: dict[str, Any] = {}
    request.scope["session"] = marker
    try:
        response = await provider.authorize_redirect(request)
    except (SignInFailed, httpx.HTTPError, ValueError, RuntimeError) as exc:
        reason = exc.reason if isinstance(exc, SignInFailed) else "provider_unreachable"
        _audit(request, "failure", reason, issuer=provider.config.issuer)
        return refused(
            request, f"{provider.name} cannot be reached just now. Try again in a minute.", 502
        )
    state = next(k for k in marker if k.startswith(provider.state_key_prefix))
    state = state[len(provider.state_key_prefix) :]
    response.set_cookie(
        FLOW_COOKIE,
        _flow_cookie(state, safe_next(request.query_params.get("next", "")) or ""),
        max_age=LIFETIME_SECONDS,
        httponly=True,
        samesite="lax",
        secure=services(request).settings.cookie_secure,
        path=FLOW_PATH,
    )
    return response


async def callback(request: Request) -> Response:
    provider = provider_of(request)
    svc = services(request)
    cookie_state, next_path = _read_flow_cookie(request.cookies.get(FLOW_COOKIE, ""))
    state = request.query_params.get("state", "")
    marker: dict[str, Any] = {}
    if cookie_state and state and hmac.compare_digest(cookie_state.encode(), state.encode()):
        marker[provider.state_key_prefix + state] = {"exp": time.time() + LIFETIME_SECONDS}
    request.scope["session"] = marker
    try:
        identity = await provider.finish(request)
    except SignInFailed as failed:
        _audit(request, "failure", failed.reason, issuer=provider.config.issuer)
        return refused(
            request,
            "The sign-in did not complete (it may have expired, or been started in another "
            "window). Start again from the sign-in page.",
            400,
        )
    decision = role_for(identity.claims, provider.config)
    if isinstance(decision, Refusal):
        _audit(request, "denied", decision.reason, identity=identity)
        return refused(request, decision.message, 403)
    address = client_address(request) or "unknown"
    async with svc.stores.control.acquire() as conn:
        try:
            user = await users.sign_in_oidc(
                conn,
                issuer=identity.issuer,
                subject=identity.subject,
                email=identity.email or "",
                name=identity.name,
                role=decision.role,
                lea_code=decision.lea,
                actor=Actor("system", "oidc-sign-in", address, request.state.request_id),
            )
        except Forbidden as exc:
            _audit(request, "denied", str(exc.extra.get("reason")), identity=identity)
            return refused(request, exc.detail or exc.title, 403)
        token = await sessions.create(
            conn, user, svc.settings.session_ttl_seconds, address, oidc_sid=identity.sid
        )
    _audit(request, "success", identity=identity, user=user)
    response = redirect(next_path if next_path and user_may_go(user, next_path) else home_for(user))
    set_session_cookie(response, svc.settings, token)
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


def user_may_go(user: users.WebUser, path: str) -> bool:
    """After sign-in, back where the person was going, if it is theirs to see."""
    if user.is_operator:
        return True
    return path.startswith(f"/districts/{user.district}/")


async def sign_out_target(request: Request, session: sessions.Session) -> str | None:
    """RP-Initiated Logout 1.0: where to send the browser after our session ended, when the
    account is the provider's and the provider advertises an end_session_endpoint."""
    svc = services(request)
    if svc.oidc is None or session.oidc_issuer != svc.oidc.config.issuer:
        return None
    return await svc.oidc.end_session_url(f"{svc.settings.issuer}/login")


async def backchannel_logout(request: Request) -> Response:
    """Back-Channel Logout 1.0 §2.5-2.8: 200 once the sessions are gone, 400 for a token
    that fails validation. Never cached."""
    provider = provider_of(request)
    headers = {"Cache-Control": "no-store"}
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type != "application/x-www-form-urlencoded":
        return _bad(request, "not_a_form")
    form = await request.form(max_files=0, max_fields=5)
    token = form.get("logout_token")
    if not isinstance(token, str) or not token:
        return _bad(request, "no_logout_token")
    config = provider.config
    try:
        try:
            logout = logout_token.validate(
                token,
                await provider.key_set(),
                issuer=config.issuer,
                client_id=config.client_id,
                algorithms=ALGORITHMS,
            )
        except logout_token.UnknownKey:
            logout = logout_token.validate(
                token,
                await provider.key_set(unknown_kid=True),
                issuer=config.issuer,
                client_id=config.client_id,
                algorithms=ALGORITHMS,
            )
    except logout_token.InvalidLogoutToken as exc:
        return _bad(request, exc.reason)
    except (SignInFailed, httpx.HTTPError, ValueError):
        _audit(request, "failure", "jwks_unreachable", action="web.backchannel_logout")
        return JSONResponse({"error": "temporarily_unavailable"}, 503, headers=headers)
    async with services(request).stores.control.acquire() as conn:
        ended = await sessions.end_for_provider(conn, logout.issuer, logout.subject, logout.sid)
    _audit(
        request,
        "success",
        action="web.backchannel_logout",
        issuer=logout.issuer,
        subject=logout.subject,
        sid=logout.sid,
        sessions=ended,
    )
    return Response(status_code=200, headers=headers)


def _bad(request: Request, reason: str) -> Response:
    _audit(request, "failure", reason, action="web.backchannel_logout")
    return JSONResponse(
        {"error": "invalid_request", "error_description": f"logout token refused: {reason}"},
        400,
        headers={"Cache-Control": "no-store"},
    )


def routes() -> list[Route]:
    return [
        page("/login/oidc", start),
        page("/login/oidc/callback", callback),
        page("/login/oidc/backchannel-logout", backchannel_logout, ["POST"]),
    ]
