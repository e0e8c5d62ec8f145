"""/openapi.json documents every admin route, and what the routes answer fits what it says."""

from __future__ import annotations

import re
from typing import Any

import httpx
import jsonschema
from openapi_spec_validator import validate
from starlette.routing import Route

from gateway.admin import api
from tests.admin.conftest import API, Operator, Setup
from tests.admin.workload import do_everything
from tests.outgoing.fake_vendor import FakeVendor

METHODS = {"get", "post", "put", "delete", "patch"}


def served() -> set[tuple[str, str]]:
    pairs = set()
    for route in api.routes():
        assert isinstance(route, Route)
        pairs |= {(route.path, m.lower()) for m in route.methods or () if m != "HEAD"}
    return pairs


async def document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    validate(spec)
    return spec


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (path, method): op
        for path, item in spec["paths"].items()
        if path.startswith(API)
        for method, op in item.items()
        if method in METHODS
    }


async def test_every_admin_route_is_documented_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    documented = set(operations(await document(client)))
    assert served() == documented, {
        "served, not documented": served() - documented,
        "documented, not served": documented - served(),
    }


async def test_every_operation_needs_the_admin_scope_and_says_how_it_fails(
    client: httpx.AsyncClient,
) -> None:
    ops = operations(await document(client))
    assert len({op["operationId"] for op in ops.values()}) == len(ops)
    for (path, method), op in ops.items():
        assert op["security"] == [{"bearer": ["admin"]}], (path, method)
        assert {"401", "403"} <= set(op["responses"]), (path, method)
        if "{" in path:
            assert "404" in op["responses"], (path, method)
        if "requestBody" in op:
            assert {"400", "413", "415", "422"} <= set(op["responses"]), (path, method)


async def test_examples_fit_their_schemas(client: httpx.AsyncClient) -> None:
    """Body schemas come from the specs that validate bodies (unknown members refused, types,
    lengths, ranges), so an example that fits its schema is one the server accepts."""
    for op in operations(await document(client)).values():
        body = op.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            jsonschema.validate(body["example"], body["schema"])
        for status, answer in op["responses"].items():
            content = answer.get("content", {}).get("application/json")
            if status.startswith("2") and content:
                jsonschema.validate(content["example"], content["schema"])


async def test_real_answers_fit_the_documented_schemas_exactly(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, vendor: FakeVendor
) -> None:
    spec = await document(client)
    work = await do_everything(client, operator, setup, vendor)
    values = {
        "lea": setup.lea,
        "client_id": work.client_id,
        "connection_id": work.connection_id,
        "email": work.email,
        "name": setup.consumer,
        "batch_id": str(work.batch_id),
        "load_id": work.load_id,
    }
    for path, method in sorted(served()):
        if method != "get":
            continue
        url = re.sub(r"\{([^}]+)\}", lambda m: values[m.group(1)], path)
        response = await client.get(url, headers=operator.headers)
        assert response.status_code == 200, url
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]
        jsonschema.validate(response.json(), schema)
        assert_same_fields(response.json(), schema, url)


async def test_write_answers_fit_the_documented_schemas_exactly(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, vendor: FakeVendor
) -> None:
    spec = await document(client)
    work = await do_everything(client, operator, setup, vendor)
    for method, url, status, body in work.answers:
        path = template_of(method, url)
        answer = spec["paths"][path][method.lower()]["responses"][str(status)]
        if status == 204:
            assert "content" not in answer
            continue
        schema = answer["content"]["application/json"]["schema"]
        jsonschema.validate(body, schema)
        assert_same_fields(body, schema, f"{method} {url}")


def template_of(method: str, url: str) -> str:
    for route in api.routes():
        assert isinstance(route, Route)
        if route.path_regex.match(url) and method in (route.methods or ()):
            return route.path
    raise AssertionError(f"no route serves {method} {url}")


def assert_same_fields(instance: Any, schema: dict[str, Any], where: str) -> None:
    """Objects carry exactly the documented properties (no undocumented extras)."""
    if isinstance(instance, dict) and "properties" in schema:
        assert set(instance) == set(schema["properties"]), where
        for key, value in instance.items():
            assert_same_fields(value, schema["properties"][key], f"{where}.{key}")
    elif isinstance(instance, list) and "items" in schema:
        for value in instance:
            assert_same_fields(value, schema["items"], where)
