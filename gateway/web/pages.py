"""How a web page is built: the route (with sessions), the form (with CSRF), the template."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import jinja2
from starlette.datastructures import FormData
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.body_limit import body_limit
from gateway.control import form_tokens
from gateway.control.users import WebUser
from gateway.errors import BadRequest
from gateway.input_guard import UnstorableText, fields_storable
from gateway.request_context import services
from gateway.web.auth import (
    LOGIN_CSRF_COOKIE,
    SessionBackend,
    SessionUser,
    check_csrf,
    refuse_district_writes,
)

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
FORM_LIMIT = 64 * 1024

Endpoint = Callable[[Request], Awaitable[Response]]

_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(TEMPLATES),
    autoescape=jinja2.select_autoescape(default=True),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _fmt_time(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


_env.filters["when"] = _fmt_time
# A fresh one-time token per rendered form (see gateway/control/form_tokens.py).
_env.globals["new_form_token"] = form_tokens.new_token


class ReadOnlyForDistricts:
    """After authentication: any write by a district user is a 403, on any URL (sign-out
    excepted). The consumer API and OAuth endpoints never carry a session; they pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not scope["path"].startswith(_NO_SESSION_PREFIXES):
            refuse_district_writes(Request(scope, receive))
        await self.app(scope, receive, send)


class SessionAuthentication(AuthenticationMiddleware):
    """Starlette's AuthenticationMiddleware, skipped on the machine-facing routes."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(_NO_SESSION_PREFIXES):
            await self.app(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


_NO_SESSION_PREFIXES = (
    "/api/",
    "/admin/api/",
    "/oauth2/",
    "/.well-known/",
    "/healthz",
    "/readyz",
    "/metrics",
    "/_floor/",
    # The provider calls it server to server (Back-Channel Logout 1.0 §2.5), never a browser.
    "/login/oidc/backchannel-logout",
)

SESSION_MIDDLEWARE = [
    Middleware(SessionAuthentication, backend=SessionBackend()),
    Middleware(ReadOnlyForDistricts),
]


def page(
    path: str,
    endpoint: Endpoint,
    methods: Sequence[str] = ("GET",),
    name: str | None = None,
    *,
    max_body_size: int = FORM_LIMIT,
) -> Route:
    """A web page route (the app-wide session middleware tells it who is signed in)."""
    return Route(
        path, endpoint, methods=list(methods), name=name, middleware=body_limit(max_body_size)
    )


def current(request: Request) -> WebUser | None:
    user = request.user if "user" in request.scope else None
    return user.web_user if isinstance(user, SessionUser) else None


def render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    user = request.scope.get("user")
    session_user = user if isinstance(user, SessionUser) else None
    html = _env.get_template(template).render(
        request=request,
        user=session_user.web_user if session_user else None,
        csrf_token=session_user.session.csrf_token if session_user else "",
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


async def form(request: Request, *, files: int = 0) -> FormData:
    """The posted form, after the CSRF check (session token, or the login double-submit).
    `files`: how many file fields it may carry (multipart; spooled to disk past 1 MiB)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in ("application/x-www-form-urlencoded", "multipart/form-data"):
        raise BadRequest("Submit the form from the page.")
    data = await request.form(max_files=files, max_fields=50)
    if not fields_storable(data.multi_items()):
        raise UnstorableText("Remove the NUL character from the form.")
    submitted = data.get("csrf_token")
    user = request.scope.get("user")
    expected = (
        user.session.csrf_token
        if isinstance(user, SessionUser)
        else request.cookies.get(LOGIN_CSRF_COOKIE, "")
    )
    try:
        check_csrf(
            request,
            submitted if isinstance(submitted, str) else None,
            expected,
            services(request).settings.base_url,
        )
    except BaseException:
        await data.close()  # an uploaded file's spool
        raise
    return data


def field(data: FormData, name: str) -> str:
    value = data.get(name, "")
    return value if isinstance(value, str) else ""


def redirect(url: str) -> RedirectResponse:
    # 303: after a POST, the browser follows with a GET.
    return RedirectResponse(url, status_code=303)
