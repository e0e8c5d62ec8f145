"""The operations listener: /metrics (and /healthz where a process has one) on a port of its
own, so that a scraper reaches them on an internal address and the public listener never
serves them.

`gateway serve --metrics-port N` runs it in a thread of the serving process: with one worker
that process is the app, and with several it is uvicorn's supervisor, which reads every
worker's values from PROMETHEUS_MULTIPROC_DIR, so the figures are summed either way.
`gateway worker --metrics-port N` runs it in the worker's own event loop, so a blocked loop
cannot answer its health check (which is what a liveness probe must see).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.health import metrics_endpoint
from gateway.settings import Settings

# The health verdict: (healthy, details for the operator, e.g. {"database": "unreachable"}).
Health = Callable[[], Awaitable[tuple[bool, dict[str, str]]]]
# Work done before each scrape (the worker reads its queue figures from the database).
Refresh = Callable[[], Awaitable[None]]


def monitor_app(
    settings: Settings,
    multiproc_dir: str | None,
    *,
    health: Health | None = None,
    refresh: Refresh | None = None,
) -> Starlette:
    """/metrics exactly as the public listener serves it (GATEWAY_METRICS_TOKEN included),
    plus /healthz when `health` is given: 200 when healthy, 503 with the reason otherwise."""

    async def scrape(request: Request) -> Response:
        if refresh is not None:
            await refresh()
        return await metrics_endpoint(request)

    routes = [Route("/metrics", scrape, methods=["GET"])]
    if health is not None:
        check = health

        async def healthz(_: Request) -> Response:
            healthy, details = await check()
            body = {"status": "ok" if healthy else "unavailable", **details}
            return JSONResponse(
                body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"}
            )

        routes.append(Route("/healthz", healthz, methods=["GET"]))
    app = Starlette(routes=routes)
    app.state.settings = settings
    app.state.multiproc_dir = multiproc_dir
    return app


class _Server(uvicorn.Server):
    """uvicorn's server without its signal handlers: the process it runs in owns them (the
    worker's stop, or uvicorn's own supervisor)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(app: Starlette) -> _Server:
    return _Server(
        uvicorn.Config(
            app,
            log_config=None,
            access_log=False,
            server_header=False,
            lifespan="off",
            ws="none",
            timeout_graceful_shutdown=2,
        )
    )


async def serve(app: Starlette, sock: socket.socket, stopping: asyncio.Event) -> None:
    """Serve `app` on `sock` in this event loop until `stopping` is set."""
    server = _server(app)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="monitor-listener")
    try:
        await stopping.wait()
    finally:
        server.should_exit = True
        await task


@dataclass
class Threaded:
    """A listener running in a thread of its own (see `in_thread`)."""

    server: _Server
    thread: threading.Thread

    def stop(self, within: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(within)


def in_thread(app: Starlette, sock: socket.socket) -> Threaded:
    """Serve `app` on `sock` from a daemon thread (it has its own event loop)."""
    server = _server(app)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="metrics-listener", daemon=True
    )
    thread.start()
    return Threaded(server, thread)
