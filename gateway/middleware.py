"""Per-request bookkeeping at the edge, as one pure ASGI middleware (no BaseHTTPMiddleware:
it costs a task per request): request id, structured access line, metrics by route template,
and the security headers every answer carries."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.input_guard import check_head
from gateway.metrics import LATENCY, REQUESTS

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
log = structlog.stdlib.get_logger("gateway.access")

# CSP without inline scripts or styles; pages load only their own static files.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_BASE_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    # same-origin, not no-referrer: with no-referrer Chromium sends "Origin: null" on our own
    # form posts, and the CSRF origin check must see the real origin. Other sites get nothing.
    (b"referrer-policy", b"same-origin"),
    (b"content-security-policy", _CSP.encode()),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


async def _problem_for(scope: Scope, receive: Receive, exc: Exception) -> Any:
    """The answer to an exception raised outside the router (e.g. by a session middleware):
    a deliberate ProblemError keeps its status; anything else is a logged 500."""
    from starlette.requests import Request

    from gateway.errors import ProblemError, StoreUnavailable
    from gateway.outage import OUTAGE_ERRORS

    problems = scope["app"].state.problems
    request = Request(scope, receive)
    if isinstance(exc, ProblemError):
        return await problems.problem(request, exc)
    if isinstance(exc, HTTPException):
        return await problems.http(request, exc)
    if isinstance(exc, (StoreUnavailable, *OUTAGE_ERRORS)):
        return await problems.store_unavailable(request, exc)
    return await problems.unexpected(request, exc)


def _route_template(scope: Scope) -> str:
    """The matched route's path template, so student ids never become label values or log text."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if template:
        root = scope.get("root_path", "")
        return f"{root}{template}" if root and not template.startswith(root) else str(template)
    return "unmatched"


class EdgeMiddleware:
    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.headers = list(_BASE_HEADERS)
        if hsts:
            self.headers.append(
                (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
            )

    async def _answer_unexpected(
        self, scope: Scope, receive: Receive, send: Send, exc: Exception
    ) -> None:
        response = await _problem_for(scope, receive, exc)  # logs it, redacted
        if not scope["state"].get("response_started"):
            await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _REQUEST_ID.match(candidate):
                    request_id = candidate
                break
        if not request_id:
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        extra_headers = [*self.headers, (b"x-request-id", request_id.encode())]

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                scope["state"]["response_started"] = True
                message["headers"] = [*message.get("headers", []), *extra_headers]
            await send(message)

        try:
            refused = check_head(scope)
            if refused is not None:
                # Before any handler: nothing unstorable reaches SQL or the audit (issue 12).
                response = await _problem_for(scope, receive, refused)
                await response(scope, receive, send_wrapper)
            else:
                await self.app(scope, receive, send_wrapper)
        except Exception as exc:
            # Answered here and not re-raised: the server's own handler would log the raw
            # exception text (which can quote key values) outside our redaction.
            await self._answer_unexpected(scope, receive, send_wrapper, exc)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = scope["method"]
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(elapsed)
            fields: dict[str, Any] = {
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 2),
            }
            district = scope.get("state", {}).get("district")
            if district:
                fields["district"] = district
            log.info("request", **fields)
            structlog.contextvars.clear_contextvars()
