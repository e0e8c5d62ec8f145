"""Sign-in, sign-out and the one-time set-password page.

Failed sign-ins are throttled like the token endpoint: counted per (email, address) and per
address in the shared lockout table; past the threshold the form answers as for a wrong
password, without checking it.
"""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.audit import Actor, AuditEvent
from gateway.control import users
from gateway.errors import NotFound, ValidationFailed
from gateway.lockout import Lockout
from gateway.request_context import client_address, services
from gateway.web import sessions
from gateway.web.auth import LOGIN_CSRF_COOKIE, cookie_name, signed_in
from gateway.web.pages import current, field, form, page, redirect, render

if TYPE_CHECKING:
    from gateway.settings import Settings

WRONG = "Wrong email or password."


def with_form_cookie(request: Request, response: Response, token: str, path: str) -> Response:
    """The double-submit CSRF cookie of a form shown before there is a session."""
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=services(request).settings.cookie_secure,
        path=path,
    )
    return response


def set_session_cookie(response: Response, settings: Settings, token: str) -> None:
    """The session cookie, whichever way the person signed in."""
    response.set_cookie(
        cookie_name(settings.cookie_secure),
        token,
        max_age=settings.session_ttl_seconds,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def home_for(user: users.WebUser) -> str:
    return "/admin/districts" if user.is_operator else f"/districts/{user.district}/setup"


def _safe_next(value: str) -> str | None:
    # Only local paths: never an open redirect.
    return (
        value
        if value.startswith("/") and not value.startswith("//") and "\\" not in value
        else None
    )


async def login_form(request: Request) -> Response:
    user = current(request)
    if user is not None:
        return redirect(home_for(user))
    return await _login_page(request)


async def _login_page(
    request: Request, error: str = "", email: str = "", status: int = 200
) -> Response:
    from gateway.web.oidc import sign_in_choices  # it imports this module's helpers

    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status=status,
        login_csrf=token,
        error=error,
        email=email,
        next=request.query_params.get("next", ""),
        # After a wrong password the local form is in use: no second connection is taken
        # (the failing sign-in still holds one) to ask whether a local account exists.
        **await sign_in_choices(request, local_in_use=bool(error)),
    )
    return with_form_cookie(request, response, token, "/login")


async def login_submit(request: Request) -> Response:
    svc = services(request)
    if not svc.settings.local_login:
        raise NotFound("Local sign-in is switched off (GATEWAY_LOCAL_LOGIN=off).")
    data = await form(request)
    lockout: Lockout = svc.login_lockout
    email = field(data, "email").strip().lower()[:320]
    password = field(data, "password")
    address = client_address(request) or "unknown"
    actor = Actor("anonymous", email or "-", address, request.state.request_id)
    # One connection at a time, none held while hashing or counting (issue 12: holding one
    # while the lockout waited for a second deadlocked the pool); check and count take turns.
    async with lockout.turn(address):
        if lockout.locked_for(email, address):
            svc.audit.add(AuditEvent(actor, "web.login", "denied", detail={"reason": "locked"}))
            return await _login_page(request, WRONG, email, status=401)
        async with svc.stores.control.acquire() as conn:
            user, stored = await users.credentials_for_login(conn, email)
        ok = await svc.slow_hashes.run(users.check_password, password, stored)
        if not ok or user is None:
            await lockout.failure(email, address)
            svc.audit.add(
                AuditEvent(actor, "web.login", "failure", detail={"reason": "bad_password"})
            )
            return await _login_page(request, WRONG, email, status=401)
        await lockout.success(email, address)
    async with svc.stores.control.acquire() as conn:
        token = await sessions.create(conn, user, svc.settings.session_ttl_seconds, address)
    svc.audit.add(
        AuditEvent(
            Actor(
                "operator" if user.is_operator else "district_user",
                user.email,
                address,
                request.state.request_id,
            ),
            "web.login",
            "success",
            user.district_id,
        )
    )
    response = redirect(_safe_next(field(data, "next")) or home_for(user))
    set_session_cookie(response, svc.settings, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


async def logout(request: Request) -> Response:
    from gateway.web.oidc import sign_out_target  # it imports this module's helpers

    await form(request)
    svc = services(request)
    session = signed_in(request).session
    user = session.user
    async with svc.stores.control.acquire() as conn:
        await sessions.end_everywhere(conn, user)
    # RP-initiated logout at the provider, for its accounts (None: it offers none).
    provider_logout = await sign_out_target(request, session)
    svc.audit.add(
        AuditEvent(
            Actor(
                "operator" if user.is_operator else "district_user",
                user.email,
                (client_address(request) or "unknown"),
                request.state.request_id,
            ),
            "web.logout",
            district_id=user.district_id,
            detail=(
                {
                    "method": "oidc",
                    "issuer": session.oidc_issuer,
                    "subject": session.oidc_subject,
                    "provider_logout": provider_logout is not None,
                }
                if session.oidc_issuer
                else {}
            ),
        )
    )
    response = redirect(provider_logout or "/login")
    response.delete_cookie(
        cookie_name(svc.settings.cookie_secure),
        path="/",
        secure=svc.settings.cookie_secure,
        httponly=True,
        samesite="lax",
    )
    return response


async def invite_form(request: Request) -> Response:
    token = request.path_params["token"]
    async with services(request).stores.control.acquire() as conn:
        email = await users.invite_email(conn, token)
    if email is None:
        raise NotFound("This link is no longer valid; ask an operator for a new one.")
    return _invite_page(request, email)


def _invite_page(
    request: Request, email: str, errors: dict[str, str] | None = None, status: int = 200
) -> Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request, "invite.html", status=status, email=email, errors=errors or {}, login_csrf=token
    )
    return with_form_cookie(request, response, token, "/invite")


async def invite_submit(request: Request) -> Response:
    token = request.path_params["token"]
    svc = services(request)
    # The invite page's double-submit cookie lives on /invite.
    data = await form(request)
    password, again = field(data, "password"), field(data, "password_again")
    async with svc.stores.control.acquire() as conn:
        email = await users.invite_email(conn, token)
    if email is None:
        raise NotFound("This link is no longer valid; ask an operator for a new one.")
    if password != again:
        return _invite_page(request, email, {"password_again": "The two passwords differ"}, 400)
    try:
        # Hashed with no connection held; the invite is checked again when it is used up.
        password_hash = await users.new_password_hash(password, off_loop=svc.slow_hashes.run)
    except ValidationFailed as exc:
        return _invite_page(request, email, exc.errors, 400)
    async with svc.stores.control.acquire() as conn:
        await users.accept_invite(conn, token, password_hash, client_address(request) or "unknown")
    return redirect("/login?set=1")


def routes() -> list[Route]:
    return [
        page("/login", login_form, ["GET"]),
        page("/login", login_submit, ["POST"]),
        page("/logout", logout, ["POST"]),
        page("/invite/{token}", invite_form, ["GET"]),
        page("/invite/{token}", invite_submit, ["POST"]),
    ]
