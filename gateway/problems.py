"""The one place that turns exceptions into HTTP answers.

API clients get RFC 9457 problem details (`application/problem+json`). Browser pages register a
renderer for their path prefixes (see `gateway.web`) and get an HTML page instead.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

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


def problem_response(error: ProblemError, instance: str | None = None) -> Response:
    body, media_type = error.render(instance)
    return JSONResponse(
        body, status_code=error.status, headers=error.headers, media_type=media_type
    )


class ProblemHandlers:
    """Exception handlers for the Starlette app; HTML renderers are looked up by path prefix."""

    def __init__(self) -> None:
        self._html: list[tuple[str, HtmlRenderer | None]] = []

    def register_html(self, prefix: str, renderer: HtmlRenderer | None) -> None:
        """Answer errors under `prefix` with `renderer` (None: problem+json, e.g. to carve an
        API out of a prefix of pages). The longest matching prefix wins."""
        self._html.append((prefix, renderer))
        self._html.sort(key=lambda item: len(item[0]), reverse=True)

    async def _answer(self, request: Request, error: ProblemError) -> Response:
        path = request.url.path
        for prefix, renderer in self._html:
            if path.startswith(prefix):
                if renderer is None:
                    break
                return await renderer(request, error)
        return problem_response(error, instance=None)

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
