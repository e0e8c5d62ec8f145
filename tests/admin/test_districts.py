"""/admin/api/v1/districts: list, search, add, read, suspend, resume."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette

from gateway.control import districts
from tests.admin.conftest import API, Operator, Setup, eventually, wait_for_district
from tests.conftest import unique_lea


async def test_add_then_read_and_find_a_district(
    client: httpx.AsyncClient, operator: Operator
) -> None:
    lea = unique_lea()
    body = {"lea_code": lea.lower(), "name": "  Test Charter Academy ", "kind": "charter"}
    response = await client.post(f"{API}/districts", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["lea_code"] == lea, "LEA codes are stored in capitals"
    assert created["name"] == "Test Charter Academy"
    assert created["kind"] == "charter"
    assert created["status"] == "active"
    assert response.headers["location"] == f"{API}/districts/{lea}"

    one = await client.get(response.headers["location"], headers=operator.headers)
    assert one.status_code == 200
    assert one.json() == created

    found = await client.get(
        f"{API}/districts", params={"q": "charter academy"}, headers=operator.headers
    )
    listed = {d["lea_code"]: d for d in found.json()["items"]}
    assert listed[lea]["active_credentials"] == 0
    assert all("charter academy" in d["name"].lower() for d in listed.values())


async def test_kind_defaults_to_lea(client: httpx.AsyncClient, operator: Operator) -> None:
    body = {"lea_code": unique_lea(), "name": "Default Kind County"}
    response = await client.post(f"{API}/districts", json=body, headers=operator.headers)
    assert response.status_code == 201
    assert response.json()["kind"] == "lea"


async def test_a_duplicate_lea_code_is_409(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    body = {"lea_code": setup.lea, "name": "Again"}
    response = await client.post(f"{API}/districts", json=body, headers=operator.headers)
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"


async def test_invalid_fields_are_422_and_named(
    client: httpx.AsyncClient, operator: Operator
) -> None:
    bad = {"lea_code": "9-2", "name": "", "kind": "state", "county": "Wake"}
    response = await client.post(f"{API}/districts", json=bad, headers=operator.headers)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422
    # An empty required string is a shape error too (the document says minLength 1), and so
    # is an LEA code the document's pattern refuses, in the repository's words.
    assert set(problem["errors"]) == {"kind", "county", "name", "lea_code"}, "in one answer"
    assert problem["errors"]["name"] == "Must not be empty"
    assert problem["errors"]["lea_code"] == districts.LEA_PROBLEM
    meaning = await client.post(
        f"{API}/districts", json={"lea_code": "920X", "name": " "}, headers=operator.headers
    )
    assert meaning.status_code == 422
    assert set(meaning.json()["errors"]) == {"name"}, "the repository's, renamed"
    typed = await client.post(
        f"{API}/districts", json={"lea_code": 920, "name": ["Wake"]}, headers=operator.headers
    )
    assert typed.json()["errors"] == {"lea_code": "Must be a string", "name": "Must be a string"}


async def test_bodies_must_be_json(client: httpx.AsyncClient, operator: Operator) -> None:
    form = await client.post(
        f"{API}/districts", data={"lea_code": "920", "name": "Wake"}, headers=operator.headers
    )
    assert form.status_code == 415
    broken = await client.post(
        f"{API}/districts",
        content=b'{"lea_code": ',
        headers={**operator.headers, "content-type": "application/json"},
    )
    assert broken.status_code == 400
    huge = await client.post(
        f"{API}/districts",
        content=b'{"name": "' + b"x" * 70_000 + b'"}',
        headers={**operator.headers, "content-type": "application/json"},
    )
    # A problem document like every other error (Starlette's own limit answered text/plain).
    assert huge.status_code == 413
    assert huge.headers["content-type"] == "application/problem+json"
    problem = huge.json()
    assert problem["status"] == 413 and problem["type"].endswith("/problems/payload-too-large")
    assert problem["detail"] == "The request body is larger than 64 KiB."
    assert problem["instance"] == f"{API}/districts"


async def test_an_unknown_district_is_404(client: httpx.AsyncClient, operator: Operator) -> None:
    for method, url in (
        ("GET", f"{API}/districts/ZZZ999"),
        ("POST", f"{API}/districts/ZZZ999/suspend"),
        ("POST", f"{API}/districts/ZZZ999/resume"),
    ):
        response = await client.request(method, url, headers=operator.headers)
        assert response.status_code == 404, (method, url)


async def test_suspend_stops_tokens_and_resume_restores_them(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, gateway_app: Starlette
) -> None:
    suspended = await client.post(f"{API}/districts/{setup.lea}/suspend", headers=operator.headers)
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    directory = gateway_app.state.services.directory
    await eventually(lambda: not directory.cached(setup.lea).active, "suspension on the worker")

    resumed = await client.post(
        f"{API}/districts/{setup.lea}/resume", json={}, headers=operator.headers
    )
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "active"
    await eventually(lambda: directory.cached(setup.lea).active, "resumption on the worker")


async def test_suspend_takes_no_body_fields(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    response = await client.post(
        f"{API}/districts/{setup.lea}/suspend", json={"reason": "audit"}, headers=operator.headers
    )
    assert response.status_code == 422
    assert response.json()["errors"] == {"reason": "Unknown field"}


async def test_a_district_added_through_the_api_reaches_the_directory(
    client: httpx.AsyncClient, operator: Operator, gateway_app: Starlette
) -> None:
    lea = unique_lea()
    body = {"lea_code": lea, "name": "Directory County"}
    assert (
        await client.post(f"{API}/districts", json=body, headers=operator.headers)
    ).status_code == 201
    await wait_for_district(gateway_app, lea)
