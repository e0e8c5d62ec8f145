"""How a district page's route is built: the district guard first, then the handler.

The route reads `{lea}` from the path, checks the viewer may see that district (an operator
any, a district user only their own: every other district is a 404, as if it did not exist),
looks the district up, and only then calls `handler(request, viewer, district)`. A handler
cannot forget the check. Every district route is GET: writes by district users are refused
app-wide (`ReadOnlyForDistricts`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.errors import NotFound
from gateway.request_context import services
from gateway.web.auth import SessionUser, district_view
from gateway.web.pages import page
from tenants.directory import District

Handler = Callable[[Request, SessionUser, District], Awaitable[Response]]


def district_page(path: str, handler: Handler) -> Route:
    """A GET route under /districts/{lea}: `handler(request, viewer, district)` after the guard."""

    async def endpoint(request: Request) -> Response:
        lea = request.path_params["lea"]
        user = district_view(request, lea)
        district = await services(request).directory.by_lea(lea)
        if district is None:
            raise NotFound()
        return await handler(request, user, district)

    return page(path, endpoint, name=handler.__name__)
