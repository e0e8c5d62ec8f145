"""The ASGI application: routes of every area, one middleware, one exception handler set."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from gateway import health, tracing, web
from gateway import problems as problem_types
from gateway.admin import api as admin_api
from gateway.api import openapi, transcripts
from gateway.body_limit import BodyLimit
from gateway.middleware import EdgeMiddleware
from gateway.oauth import endpoints as oauth
from gateway.outgoing.worker import Worker, release_worker_config
from gateway.problems import ProblemHandlers
from gateway.services import Services
from gateway.settings import Settings
from gateway.web.pages import SESSION_MIDDLEWARE


def create_app(
    settings: Settings,
    *,
    multiproc_dir: str | None = None,
    run_worker: bool = False,
    freeze_heap: bool = False,
) -> Starlette:
    """Build the app. Pools and caches open in the lifespan, not here, so that each uvicorn
    worker builds its own after the fork. `run_worker` also runs a batch release worker in
    the lifespan (`gateway dev`); production runs `gateway worker` on its own. `freeze_heap`
    is for a server process that builds one app for its lifetime (see the lifespan)."""
    problems = ProblemHandlers()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        svc = await Services.open(settings)
        app.state.services = svc
        if freeze_heap:
            # What start-up built (caches of every district and credential, modules, the
            # route table) lives as long as the worker: frozen, the collector no longer walks
            # it on every full collection, pauses that grow with the number of districts.
            # Only where one app lives for the whole process: frozen objects are never freed.
            gc.collect()
            gc.freeze()
        worker: Worker | None = None
        try:
            if run_worker:
                worker = Worker(svc.stores, settings.master_keys, release_worker_config(settings))
                await worker.start()
            yield
        finally:
            if worker is not None:
                await worker.stop()
            await svc.stop()

    routes: list[BaseRoute] = [
        *health.routes(settings.bench_routes, metrics=settings.metrics_port is None),
        *problem_types.routes(),
        *oauth.routes(),
        *transcripts.routes(settings.max_document_bytes),
        *admin_api.routes(),
        *openapi.routes(settings.issuer, [admin_api.openapi_paths]),
        *web.routes(),
    ]
    web.install(problems)
    oauth.install(problems)
    app = Starlette(
        routes=routes,
        middleware=[
            # Outermost, where Starlette's own limit sat; its 413 is ours (gateway.body_limit).
            Middleware(BodyLimit, limit=settings.max_body_bytes),
            *tracing.middleware(settings.tracing),
            Middleware(EdgeMiddleware, hsts=settings.base_url.startswith("https://")),
            *SESSION_MIDDLEWARE,
        ],
        exception_handlers={**problems.handlers(), web.NotSignedIn: web.to_login},
        lifespan=lifespan,
    )
    # No 307 to the path with or without a trailing slash: a student id ending in an encoded
    # slash (`a%2F`) was redirected to another student's URL. Every path we serve is exact.
    app.router.redirect_slashes = False
    app.state.settings = settings
    app.state.problems = problems
    app.state.multiproc_dir = multiproc_dir
    return app


def openapi_document(issuer: str) -> dict[str, Any]:
    """The OpenAPI document this app serves at /openapi.json, for a gateway at `issuer`."""
    return openapi.document(issuer, admin_api.openapi_paths())
