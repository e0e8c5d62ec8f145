"""/admin/api/v1/consumers: list, add, read."""

from __future__ import annotations

import secrets
from urllib.parse import quote

import httpx

from tests.admin.conftest import API, Operator, Setup


async def test_add_list_and_read_a_consumer(client: httpx.AsyncClient, operator: Operator) -> None:
    name = f"CFNC {secrets.token_hex(3)}"
    body = {"name": name, "description": "College Foundation of North Carolina"}
    response = await client.post(f"{API}/consumers", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    assert response.json()["status"] == "active"
    assert response.headers["location"] == f"{API}/consumers/{quote(name, safe='')}"

    listed = await client.get(f"{API}/consumers", headers=operator.headers)
    mine = [c for c in listed.json()["items"] if c["name"] == name]
    assert mine == [{**response.json(), "active_credentials": 0}]

    one = await client.get(response.headers["location"], headers=operator.headers)
    assert one.json()["description"] == body["description"]


async def test_description_is_optional(client: httpx.AsyncClient, operator: Operator) -> None:
    name = f"NSC {secrets.token_hex(3)}"
    response = await client.post(f"{API}/consumers", json={"name": name}, headers=operator.headers)
    assert response.status_code == 201
    assert response.json()["description"] == ""


async def test_a_duplicate_name_is_409(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    response = await client.post(
        f"{API}/consumers", json={"name": setup.consumer}, headers=operator.headers
    )
    assert response.status_code == 409


async def test_invalid_consumers_are_422(client: httpx.AsyncClient, operator: Operator) -> None:
    missing = await client.post(f"{API}/consumers", json={}, headers=operator.headers)
    assert missing.json()["errors"] == {"name": "Required"}
    blank = await client.post(f"{API}/consumers", json={"name": "  "}, headers=operator.headers)
    assert blank.status_code == 422
    assert set(blank.json()["errors"]) == {"name"}
    long = await client.post(
        f"{API}/consumers", json={"name": "x", "description": "d" * 1001}, headers=operator.headers
    )
    assert long.json()["errors"] == {"description": "At most 1000 characters"}


async def test_an_unknown_consumer_is_404(client: httpx.AsyncClient, operator: Operator) -> None:
    response = await client.get(f"{API}/consumers/no-such-consumer", headers=operator.headers)
    assert response.status_code == 404


async def test_unknown_query_parameters_are_422(
    client: httpx.AsyncClient, operator: Operator
) -> None:
    response = await client.get(f"{API}/consumers", params={"q": "x"}, headers=operator.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == {"q": "Unknown parameter"}
