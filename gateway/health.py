"""Operations endpoints: liveness, readiness, metrics, and (opt-in) benchmark floor routes."""

from __future__ import annotations

import hmac

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway import metrics
from gateway.request_context import services


async def healthz(_: Request) -> Response:
    """The process is up and answering; says nothing about its dependencies."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def readyz(request: Request) -> Response:
    """Ready when every data store answers and the change feed is listening."""
    svc = services(request)
    stores = await svc.stores.ping()
    ready = all(stores.values()) and svc.feed.connected
    body = {
        "status": "ready" if ready else "unavailable",
        "stores": {name: "ok" if ok else "unreachable" for name, ok in stores.items()},
        "change_feed": "listening" if svc.feed.connected else "disconnected",
    }
    return JSONResponse(
        body, status_code=200 if ready else 503, headers={"Cache-Control": "no-store"}
    )


async def metrics_endpoint(request: Request) -> Response:
    """Prometheus exposition. With GATEWAY_METRICS_TOKEN set, only a scraper that sends it
    as a bearer token is answered (route labels and counts are operational detail)."""
    wanted = request.app.state.settings.metrics_token
    if wanted is not None:
        given = request.headers.get("authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {wanted}".encode()):
            return Response(status_code=401, headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    body, content_type = metrics.render(request.app.state.multiproc_dir)
    return Response(body, media_type=content_type)


async def floor_static(_: Request) -> Response:
    """Benchmark floor: the cheapest JSON answer the stack can give."""
    return JSONResponse({"status": "ok", "floor": "static"})


async def floor_query(request: Request) -> Response:
    """Benchmark floor: one `SELECT 1` through the control pool."""
    value = await services(request).stores.control.fetchval("SELECT 1")
    return JSONResponse({"status": "ok", "floor": "query", "value": value})


def routes(bench: bool, *, metrics: bool = True) -> list[Route]:
    """`metrics=False` when /metrics has a listener of its own (GATEWAY_METRICS_PORT, see
    gateway.monitor): then the public listener does not serve it at all."""
    found = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]
    if metrics:
        found.append(Route("/metrics", metrics_endpoint, methods=["GET"]))
    if bench:
        found += [
            Route("/_floor/static", floor_static, methods=["GET"]),
            Route("/_floor/query", floor_query, methods=["GET"]),
        ]
    return found
