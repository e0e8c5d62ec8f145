"""Web pages: sign-in, the districts' read-only Electronic Release Setup, the operators'
console. Server-rendered (Jinja2), no external assets, no inline scripts."""

from __future__ import annotations

from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from gateway.errors import ProblemError
from gateway.problems import ProblemHandlers
from gateway.web import login
from gateway.web.auth import NotSignedIn
from gateway.web.pages import STATIC, current, page, redirect, render

# Path prefixes answered with HTML error pages (everything else gets problem+json).
HTML_PREFIXES = ("/login", "/logout", "/invite", "/districts", "/admin")


async def html_error(request: Request, error: ProblemError) -> Response:
    response = render(
        request,
        "error.html",
        status=error.status,
        title=error.title,
        detail=error.detail or error.title,
    )
    response.headers.update(error.headers)  # e.g. Retry-After on a 503
    return response


async def to_login(request: Request, _exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


async def home(request: Request) -> Response:
    user = current(request)
    return redirect(login.home_for(user) if user else "/login")


def install(problems: ProblemHandlers) -> None:
    for prefix in HTML_PREFIXES:
        problems.register_html(prefix, html_error)
    # The admin JSON API answers in JSON, even under /admin.
    problems.register_html("/admin/api", None)


def routes() -> list[BaseRoute]:
    from gateway.web import oidc
    from gateway.web.console import pages as console_pages
    from gateway.web.district import pages as district_pages

    return [
        page("/", home),
        *login.routes(),
        *oidc.routes(),
        *district_pages.routes(),
        *console_pages.routes(),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]


__all__ = ["NotSignedIn", "install", "routes", "to_login"]
