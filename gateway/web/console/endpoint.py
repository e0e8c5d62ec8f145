"""How a console route is built: the operator guard first, then the handler.

Like `gateway.admin.endpoint.operator_route` for the JSON API: the guard is applied by the
route, so a handler cannot forget it. To anyone but an operator the console does not exist
(404 on a page), and a write by a district user is a 403; without a session, the sign-in page.
The guard runs before the body is read, so a refused caller learns nothing about the form.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.auth import SessionUser, operator
from gateway.web.pages import FORM_LIMIT, page

Handler = Callable[[Request, SessionUser], Awaitable[Response]]


def console_page(
    path: str,
    handler: Handler,
    methods: Sequence[str] = ("GET",),
    *,
    max_body_size: int = FORM_LIMIT,
) -> Route:
    """A console route under /admin: `handler(request, operator)` after the guard."""

    async def endpoint(request: Request) -> Response:
        return await handler(request, operator(request))

    return page(path, endpoint, methods, name=handler.__name__, max_body_size=max_body_size)
