"""How an admin API route is built: operator authentication first, then the handler.

Every route needs a bearer token with the `admin` scope from an operator credential
(`gateway credential issue-operator`). The check comes before the body is read, so that a caller
without a token learns nothing about what a valid body would be. The operator's client id is
the actor of every audit row the repositories write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import schemas
from gateway.audit import Actor
from gateway.body_limit import body_limit
from gateway.oauth.bearer import TokenContext
from gateway.oauth.errors import InsufficientScope
from gateway.request_context import client_address, services

if TYPE_CHECKING:
    from gateway.services import Services
    from gateway.settings import Settings

PREFIX = "/admin/api/v1"
SCOPE = "admin"


@dataclass(frozen=True)
class Call:
    """One authenticated admin request: what a handler needs, and nothing it must look up."""

    request: Request
    services: Services
    actor: Actor

    @property
    def settings(self) -> Settings:
        return self.services.settings

    def param(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def db(self) -> Any:
        """`async with call.db() as conn`: a control-database connection (application role)."""
        return self.services.stores.control.acquire()

    async def body(self, spec: schemas.Spec) -> dict[str, Any]:
        content_type = self.request.headers.get("content-type")
        return schemas.parse_body(content_type, await self.request.body(), spec)

    async def optional_body(self, spec: schemas.Spec) -> dict[str, Any]:
        content_type = self.request.headers.get("content-type")
        return schemas.parse_optional_body(content_type, await self.request.body(), spec)

    def query(self, spec: schemas.Spec) -> dict[str, Any]:
        params = self.request.query_params
        return schemas.parse_query({k: params.getlist(k) for k in params}, spec)


Handler = Callable[[Call], Awaitable[Response]]


def require_operator(context: TokenContext) -> None:
    """The scope alone would do today (only operator credentials are granted `admin`); the
    kind is checked as well so that a future scope mix-up cannot open the admin API to a
    district's consumer."""
    if context.credential.kind != "operator" or context.district is not None:
        raise InsufficientScope("This route needs an operator credential.")


def actor_for(request: Request, context: TokenContext) -> Actor:
    return Actor(
        "operator", context.credential.client_id, client_address(request), request.state.request_id
    )


async def authenticate(request: Request, svc: Services) -> Actor:
    context = await svc.bearer.authenticate(request.headers.get("authorization"), SCOPE)
    require_operator(context)
    return actor_for(request, context)


def operator_route(
    path: str, method: str, handler: Handler, *, max_body_size: int = schemas.BODY_LIMIT
) -> Route:
    """`path` is relative to /admin/api/v1; bodies are bounded at the route (413 past it)."""

    async def endpoint(request: Request) -> Response:
        svc = services(request)
        actor = await authenticate(request, svc)
        return await handler(Call(request, svc, actor))

    return Route(
        PREFIX + path,
        endpoint,
        methods=[method],
        name=f"admin_api.{handler.__name__}",
        middleware=body_limit(max_body_size),
    )
