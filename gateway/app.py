"""The ASGI application: routes of every area, one middleware, one exception handler set."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from gateway import health
from gateway.middleware import EdgeMiddleware
from gateway.oauth import endpoints as oauth
from gateway.problems import ProblemHandlers
from gateway.services import Services
from gateway.settings import Settings


def create_app(settings: Settings, *, multiproc_dir: str | None = None) -> Starlette:
    """Build the app. Pools and caches open in the lifespan, not here, so that each uvicorn
    worker builds its own after the fork."""
    problems = ProblemHandlers()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = await Services.open(settings)
        app.state.services = svc
        try:
            yield
        finally:
            await svc.stop()

    routes: list[BaseRoute] = [*health.routes(settings.bench_routes), *oauth.routes()]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(EdgeMiddleware, hsts=settings.base_url.startswith("https://"))],
        exception_handlers=problems.handlers(),
        lifespan=lifespan,
        max_body_size=settings.max_body_bytes,
    )
    app.state.settings = settings
    app.state.problems = problems
    app.state.multiproc_dir = multiproc_dir
    return app
