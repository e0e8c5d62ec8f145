"""The edge every request crosses: health, readiness, metrics, request ids, problems, headers."""

from __future__ import annotations

import platform
from pathlib import Path

import httpx
from starlette.datastructures import Secret

from gateway import __version__
from gateway.app import create_app
from gateway.errors import NotFound
from gateway.settings import Settings
from tests.conftest import PgDatabase, client_from


async def test_healthz_is_up(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_readyz_reports_every_store(client: httpx.AsyncClient) -> None:
    response = await client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["stores"] == {"main": "ok"}
    assert body["change_feed"] == "listening"


async def test_request_id_is_honoured_or_made(client: httpx.AsyncClient) -> None:
    given = await client.get("/healthz", headers={"X-Request-ID": "abc-123.DEF"})
    assert given.headers["x-request-id"] == "abc-123.DEF"
    made = await client.get("/healthz")
    assert len(made.headers["x-request-id"]) == 32
    # A header that could inject into logs is replaced, not echoed.
    bad = await client.get("/healthz", headers={"X-Request-ID": "a b\tc"})
    assert bad.headers["x-request-id"] != "a b\tc"


async def test_unknown_route_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/thing")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 404 and body["title"] == "Not found"
    assert body["type"].endswith("/not-found")


async def test_no_path_is_redirected_to_its_slashed_or_unslashed_twin(
    client: httpx.AsyncClient,
) -> None:
    """A student id ending in an encoded slash once got a 307 to another student's URL."""
    for path in ("/api/v1/districts/920/etranscripts/a%2F", "/healthz/", "/login/"):
        response = await client.get(path)
        assert response.status_code == 404, (path, response.status_code)
        assert "location" not in response.headers


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.post("/healthz")
    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert "GET" in response.headers["allow"]


async def test_security_headers_on_every_answer(client: httpx.AsyncClient) -> None:
    for path in ("/healthz", "/no/such/thing"):
        response = await client.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "same-origin"
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "'unsafe-inline'" not in csp


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/_floor/query")
    text = (await client.get("/metrics")).text
    assert 'gateway_http_requests_total{method="GET",route="/_floor/query",status="200"}' in text
    assert "gateway_http_request_duration_seconds_bucket" in text


async def test_floor_query_route_runs_a_query(client: httpx.AsyncClient) -> None:
    response = await client.get("/_floor/query")
    assert response.json() == {"status": "ok", "floor": "query", "value": 1}


async def test_allow_lists_every_method_served_at_the_path(client: httpx.AsyncClient) -> None:
    """RFC 9110 §15.5.6: the admin API has one Route per method, and a 405's Allow names all
    of them, not only the first route's."""
    response = await client.put("/admin/api/v1/credentials")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    one = await client.delete("/healthz")
    assert one.headers["allow"] == "GET, HEAD"


async def test_problem_types_are_ours_and_answer(
    client: httpx.AsyncClient, app_settings: Settings
) -> None:
    """`type` is under GATEWAY_BASE_URL (a domain the state controls) and GET on it says what
    it means; `instance` is the path that was asked for."""
    response = await client.get("/no/such/thing")
    body = response.json()
    assert body["type"] == f"{app_settings.base_url}/problems/not-found"
    assert body["instance"] == "/no/such/thing"
    described = await client.get(body["type"].removeprefix(app_settings.base_url))
    assert described.status_code == 200
    assert described.json()["type"] == body["type"]
    assert (described.json()["status"], described.json()["title"]) == (404, "Not found")
    unknown = await client.get("/problems/no-such-type")
    assert unknown.status_code == 404


def test_without_a_base_url_a_problem_is_about_blank() -> None:
    assert NotFound().problem()["type"] == "about:blank"


async def test_metrics_carry_the_build_and_can_require_a_token(
    client: httpx.AsyncClient, database: PgDatabase, tmp_path: Path
) -> None:
    open_metrics = await client.get("/metrics")
    assert (
        f'gateway_build_info{{python="{platform.python_version()}",version="{__version__}"}} 1.0'
        in open_metrics.text
    )
    settings = database.settings(tmp_path, metrics_token=Secret("scrape-me-please"))
    app = create_app(settings)
    async with app.router.lifespan_context(app), client_from(app, settings, "203.0.113.9") as c:
        assert (await c.get("/metrics")).status_code == 401
        wrong = await c.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await c.get("/metrics", headers={"Authorization": "Bearer scrape-me-please"})
        assert right.status_code == 200 and "gateway_build_info" in right.text
