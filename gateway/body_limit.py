"""Request body bounds that answer like every other error of ours.

Starlette's own limit (`max_body_size`) answers a plain-text 413, and when Content-Length is
over the bound it replaces whatever the app answered with that text. This one only raises
`PayloadTooLarge` from `receive`, inside the handler that reads the body, so the one exception
handler answers it: an RFC 9457 problem document, an HTML page under the web prefixes, the
RFC 6749 §5.2 form at the OAuth endpoints. A handler that answers without reading the body
(401, 404) is not overruled: nothing of the body was accepted.

The app sets a default bound; a route may set its own (an upload, a TranscriptRequest), which
replaces the default for that request, as with Starlette's (the innermost bound wins).
"""

from __future__ import annotations

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.errors import PayloadTooLarge

_ACTIVE = "gateway.body_limit"


def _size(limit: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if limit % factor == 0:
            return f"{limit // factor} {unit}"
    return f"{limit} bytes"


class _Counter:
    """The bytes received so far against the bound in force; raises once past it."""

    def __init__(self, receive: Receive, limit: int, declared: int | None) -> None:
        self._receive = receive
        self.limit = limit
        self._declared = declared
        self._seen = 0

    def _refuse(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body is larger than {_size(self.limit)}.")

    async def receive(self) -> Message:
        if self._declared is not None and self._declared > self.limit:
            raise self._refuse()  # RFC 9110 §15.5.14: refuse before reading it
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self.limit:
                raise self._refuse()
        return message


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


class BodyLimit:
    """ASGI middleware: bodies of more than `limit` bytes raise PayloadTooLarge when read."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        active: _Counter | None = scope.get(_ACTIVE)
        if active is not None:  # an outer bound counts already: this one replaces it
            active.limit = self.limit
            await self.app(scope, receive, send)
            return
        counter = _Counter(receive, self.limit, _declared_length(scope))
        scope[_ACTIVE] = counter
        try:
            await self.app(scope, counter.receive, send)
        finally:
            scope.pop(_ACTIVE, None)


def body_limit(limit: int) -> list[Middleware]:
    """For a route's `middleware=`: its own bound instead of the app's."""
    return [Middleware(BodyLimit, limit=limit)]
