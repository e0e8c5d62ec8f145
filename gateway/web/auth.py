"""Who is browsing, and what they may do.

* `SessionBackend`: a Starlette AuthenticationBackend; the session cookie → (AuthCredentials,
  SessionUser), nothing else.
* Guards, applied by the route builders `console.endpoint.console_page` and
  `district.endpoint.district_page`: `operator(request)` for the console;
  `district_view(request, lea)` for a district's pages (an operator sees any district; a district user sees only their own, and every other
  district is a 404 for them, as if it did not exist).
* `check_csrf(request, form)`: every form post carries the session's CSRF token, compared in
  constant time, and must come from our own origin.
* District users never write: `refuse_district_writes` answers 403 to any non-GET request from
  them, whatever the form or URL (sign-out excepted).
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from starlette.authentication import AuthCredentials, AuthenticationBackend, BaseUser
from starlette.requests import HTTPConnection, Request

from gateway.control.users import WebUser
from gateway.errors import Forbidden, GatewayError, NotFound
from gateway.request_context import services
from gateway.web import sessions

SESSION_COOKIE = "etg_session"
SECURE_SESSION_COOKIE = "__Host-etg_session"  # Secure, Path=/, no Domain: cannot be planted
LOGIN_CSRF_COOKIE = "etg_login_csrf"
SAFE_METHODS = ("GET", "HEAD")


class NotSignedIn(GatewayError):
    """Raised by guards on pages that need a session: answered with a redirect to /login."""


class SessionUser(BaseUser):
    def __init__(self, session: sessions.Session) -> None:
        self.session = session

    @property
    def web_user(self) -> WebUser:
        return self.session.user

    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def display_name(self) -> str:
        return self.session.user.email


def cookie_name(secure: bool) -> str:
    return SECURE_SESSION_COOKIE if secure else SESSION_COOKIE


class SessionBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        svc = services(conn)
        token = conn.cookies.get(cookie_name(svc.settings.cookie_secure))
        if not token:
            return None
        async with svc.stores.control.acquire() as db:
            session = await sessions.load(db, token)
        if session is None:
            return None
        return AuthCredentials(["authenticated", session.user.role]), SessionUser(session)


def signed_in(request: Request) -> SessionUser:
    user = request.user
    if not isinstance(user, SessionUser):
        raise NotSignedIn()
    return user


def operator(request: Request) -> SessionUser:
    """The console is for operators; to anyone else it does not exist."""
    user = signed_in(request)
    if not user.web_user.is_operator:
        if request.method not in SAFE_METHODS:
            raise Forbidden("District accounts are read-only.")
        raise NotFound()
    return user


def district_view(request: Request, lea: str) -> SessionUser:
    user = signed_in(request)
    if not user.web_user.may_see(lea):
        raise NotFound()
    return user


def refuse_district_writes(request: Request) -> None:
    user = request.user
    if (
        isinstance(user, SessionUser)
        and not user.web_user.is_operator
        and request.method not in SAFE_METHODS
        and request.url.path != "/logout"
    ):
        raise Forbidden("District accounts are read-only: the department maintains this setup.")


def same_origin(request: Request, base_url: str) -> bool:
    """Origin (or Referer) must be our own address when the browser sends one."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    ours, theirs = urlsplit(base_url), urlsplit(origin)
    return (ours.scheme, ours.netloc) == (theirs.scheme, theirs.netloc)


def check_csrf(request: Request, submitted: str | None, expected: str, base_url: str) -> None:
    if not submitted or not hmac.compare_digest(submitted.encode(), expected.encode()):
        raise Forbidden("This form has expired; reload the page and try again.")
    if not same_origin(request, base_url):
        raise Forbidden("Cross-site form submission refused.")
