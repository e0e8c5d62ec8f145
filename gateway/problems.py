"""The one place that turns exceptions into HTTP answers.

API clients get RFC 9457 problem details (`application/problem+json`). Browser pages register a
renderer for their path prefixes (see `gateway.web`) and get an HTML page instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Scope

from gateway.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PoolExhausted,
    ProblemError,
    ServiceUnavailable,
    StoreUnavailable,
    UnsupportedMediaType,
)
from gateway.outage import OUTAGE_ERRORS

log = structlog.stdlib.get_logger("gateway.errors")

PROBLEM_JSON = "application/problem+json"
HtmlRenderer = Callable[[Request, ProblemError], Awaitable[Response]]

_BY_STATUS: dict[int, type[ProblemError]] = {
    400: BadRequest,
    403: Forbidden,
    404: NotFound,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
}


def problem_types(request: Request) -> str:
    """The base of every problem `type` URI: the gateway's public address + /problems."""
    settings = getattr(request.app.state, "settings", None)
    return f"{settings.base_url}/problems" if settings is not None else ""


def problem_response(error: ProblemError, instance: str | None = None, types: str = "") -> Response:
    body, media_type = error.render(instance, types)
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=media_type
    )


def allowed_methods(routes: Sequence[BaseRoute], scope: Scope) -> set[str]:
    """Every method served at the request's path, over all the routes that match it (one
    Route per method is how the admin API is built). RFC 9110 §15.5.6: a 405's Allow lists
    them all; Starlette's own header names only the first matching route's."""
    found: set[str] = set()
    for route in routes:
        match, child = route.matches(scope)
        if match == Match.NONE:
            continue
        if isinstance(route, Mount):
            found |= allowed_methods(route.routes, {**scope, **child})
        elif isinstance(route, Route) and route.methods:
            found |= route.methods
    return found


class ProblemHandlers:
    """Exception handlers for the Starlette app; HTML renderers are looked up by path prefix."""

    def __init__(self) -> None:
        self._html: list[tuple[str, HtmlRenderer | None]] = []

    def register_html(self, prefix: str, renderer: HtmlRenderer | None) -> None:
        """Answer errors under `prefix` with `renderer` (None: problem+json, e.g. to carve an
        API out of a prefix of pages; the OAuth endpoints register their RFC 6749 form). The
        longest matching prefix wins."""
        self._html.append((prefix, renderer))
        self._html.sort(key=lambda item: len(item[0]), reverse=True)

    async def _answer(self, request: Request, error: ProblemError) -> Response:
        path = request.url.path
        for prefix, renderer in self._html:
            if path.startswith(prefix):
                if renderer is None:
                    break
                return await renderer(request, error)
        # instance: the request's path (RFC 9457 §3.1.5), which the client itself sent; the
        # query is left out, since it may carry a student id into a stored copy of the answer.
        return problem_response(error, instance=request.url.path, types=problem_types(request))

    async def problem(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ProblemError)
        return await self._answer(request, exc)

    async def http(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 405:
            error: ProblemError = _MethodNotAllowed(exc.detail)
        else:
            cls = _BY_STATUS.get(exc.status_code, ProblemError)
            error = cls(exc.detail if cls is ProblemError else None)
        error.headers.update(dict(exc.headers or {}))
        if exc.status_code == 405:
            methods = allowed_methods(request.app.routes, request.scope)
            if methods:
                error.headers["Allow"] = ", ".join(sorted(methods))
        return await self._answer(request, error)

    async def store_unavailable(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, PoolExhausted):
            log.warning("pool_exhausted", route=request.url.path.split("/")[1][:32])
            error = ServiceUnavailable("The gateway is busy; try again shortly.", retry_after=2)
        else:
            log.error("store_unavailable", error_type=type(exc).__name__)
            error = ServiceUnavailable("A data store is unavailable.", retry_after=5)
        return await self._answer(request, error)

    async def unexpected(self, request: Request, exc: Exception) -> Response:
        # The traceback goes to the log (redacted); the client learns only the request id.
        log.exception("unhandled_error", error_type=type(exc).__name__)
        return await self._answer(request, ProblemError("An unexpected error occurred."))

    def handlers(self) -> dict[Any, Any]:
        return {
            ProblemError: self.problem,
            HTTPException: self.http,
            StoreUnavailable: self.store_unavailable,
            **dict.fromkeys(OUTAGE_ERRORS, self.store_unavailable),
            Exception: self.unexpected,
        }


class _MethodNotAllowed(ProblemError):
    status = 405
    slug = "method-not-allowed"
    title = "Method not allowed"


def _problem_types() -> dict[str, type[ProblemError]]:
    """Every problem type the gateway answers with, by slug (OAuth errors have their own
    RFC 6749 form and no type URI)."""
    found: dict[str, type[ProblemError]] = {}
    pending: list[type[ProblemError]] = [ProblemError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.render is ProblemError.render:
            found.setdefault(cls.slug, cls)
    return found


async def problem_type(request: Request) -> Response:
    """GET /problems/{slug}: what a problem `type` URI names (RFC 9457 §4: a type URI the
    gateway answers, so that a client or operator who follows one learns what it means)."""
    cls = _problem_types().get(request.path_params["slug"])
    if cls is None:
        raise NotFound("No such problem type.")
    return JSONResponse(
        {
            "type": f"{problem_types(request)}/{cls.slug}",
            "title": cls.title,
            "status": cls.status,
            "description": (cls.__doc__ or cls.title).strip().split("\n\n")[0],
        },
        headers={"Cache-Control": "public, max-age=86400"},
    )


def routes() -> list[Route]:
    return [Route("/problems/{slug}", problem_type, methods=["GET"])]
