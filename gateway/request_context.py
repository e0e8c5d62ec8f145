"""What every handler reads off a request: the worker's Services and who is calling from where."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from gateway.services import Services


def services(request: HTTPConnection) -> Services:
    """The worker's Services, opened in the app's lifespan."""
    svc: Services = request.app.state.services
    return svc


def client_address(request: HTTPConnection) -> str | None:
    """The peer's address (behind a trusted proxy, uvicorn has already put the forwarded one)."""
    return request.client.host if request.client else None
