"""Every admin route needs an operator's token: none is 401, a consumer's is 403."""

from __future__ import annotations

import re

import httpx
import pytest
from starlette.routing import Route

from gateway.admin import api
from tests.admin.conftest import Operator, bearer


def served() -> list[tuple[str, str]]:
    """(method, concrete URL) of every admin route, path parameters filled in."""
    found = []
    for route in api.routes():
        assert isinstance(route, Route)
        url = re.sub(r"\{[^}]+\}", "T999", route.path)
        found += [(m, url) for m in sorted(route.methods or ()) if m != "HEAD"]
    return found


ROUTES = served()


def test_every_route_is_under_the_versioned_prefix() -> None:
    assert ROUTES
    assert all(url.startswith("/admin/api/v1/") for _, url in ROUTES)


async def test_no_token_is_401_on_every_route(client: httpx.AsyncClient) -> None:
    for method, url in ROUTES:
        response = await client.request(method, url, json={"junk": True})
        assert response.status_code == 401, (method, url, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert response.headers["content-type"] == "application/problem+json"


async def test_a_consumer_token_is_403_insufficient_scope_on_every_route(
    client: httpx.AsyncClient, consumer_token: str
) -> None:
    for method, url in ROUTES:
        response = await client.request(method, url, headers=bearer(consumer_token))
        assert response.status_code == 403, (method, url, response.text)
        assert response.json()["type"].endswith("/insufficient-scope")
        assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Basic b3BlcmF0b3I6c2VjcmV0", "Bearer "],
)
async def test_a_bad_authorization_header_is_401(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.get("/admin/api/v1/districts", headers={"Authorization": authorization})
    assert response.status_code == 401


async def test_the_token_is_checked_before_the_body(client: httpx.AsyncClient) -> None:
    """A caller without a token learns nothing about what a valid body would be."""
    response = await client.post(
        "/admin/api/v1/districts", content=b"not json", headers={"content-type": "text/plain"}
    )
    assert response.status_code == 401


async def test_an_operator_token_is_accepted(client: httpx.AsyncClient, operator: Operator) -> None:
    response = await client.get("/admin/api/v1/districts", headers=operator.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"


async def test_unknown_admin_urls_and_methods_answer_in_problem_json(
    client: httpx.AsyncClient, operator: Operator
) -> None:
    missing = await client.get("/admin/api/v1/nothing-here", headers=operator.headers)
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    wrong = await client.patch("/admin/api/v1/districts", headers=operator.headers)
    assert wrong.status_code == 405
    assert wrong.headers["content-type"] == "application/problem+json"
