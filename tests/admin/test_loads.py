"""POST /admin/api/v1/districts/{lea}/loads: the file as the body, 202, then poll the load."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx

from gateway.admin.schemas import BODY_LIMIT
from tenants.loading.template import write_template
from tenants.loading.uploads import wait_all
from tests.admin.conftest import API, Operator, Setup
from tests.factories import large_bundle, zipped


async def finished(client: httpx.AsyncClient, operator: Operator, link: str) -> dict[str, Any]:
    await wait_all()
    while True:  # the load ran in this process; at most a moment for the record
        body: dict[str, Any] = (await client.get(link, headers=operator.headers)).json()
        if body["status"] != "running":
            return body
        await asyncio.sleep(0.01)


async def test_an_uploaded_bundle_is_loaded_and_its_record_polled(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, tmp_path: Path
) -> None:
    write_template(tmp_path / "b", example=True)
    response = await client.post(
        f"{API}/districts/{setup.lea}/loads",
        params={"filename": "example.zip", "mode": "merge"},
        content=zipped(tmp_path / "b"),
        headers={**operator.headers, "Content-Type": "application/zip"},
    )
    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "running"
    assert response.headers["location"] == accepted["links"]["self"]
    body = await finished(client, operator, accepted["links"]["self"])
    assert body["status"] == "succeeded", body
    assert body["source_name"] == "example.zip" and body["mode"] == "merge"
    assert body["counts"]["students_listed"] == 3 and body["errors"] == []
    assert body["requested_by"] == f"operator:{operator.client_id}"
    listed = await client.get(f"{API}/districts/{setup.lea}/loads", headers=operator.headers)
    assert [item["load_id"] for item in listed.json()["items"]] == [accepted["load_id"]]


async def test_a_bad_upload_reports_its_errors_and_bad_requests_are_problems(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, tmp_path: Path
) -> None:
    write_template(tmp_path / "b", example=True)
    (tmp_path / "b" / "schools.csv").write_text("school_id,name\nx,\n", encoding="utf-8")
    response = await client.post(
        f"{API}/districts/{setup.lea}/loads",
        content=zipped(tmp_path / "b"),
        headers={**operator.headers, "Content-Type": "application/zip"},
    )
    body = await finished(client, operator, response.json()["links"]["self"])
    assert body["status"] == "rejected"
    assert {
        "file": "upload.zip:schools.csv",
        "line": 1,
        "column": "city",
        "value": None,
        "reason": "missing required column",
    } in body["errors"]

    wrong_type = await client.post(
        f"{API}/districts/{setup.lea}/loads",
        content=b"a,b\n",
        headers={**operator.headers, "Content-Type": "text/csv"},
    )
    assert wrong_type.status_code == 415
    assert wrong_type.headers["content-type"] == "application/problem+json"
    unknown = await client.post(
        f"{API}/districts/NOPE999/loads",
        content=b"x",
        headers={**operator.headers, "Content-Type": "application/zip"},
    )
    assert unknown.status_code == 404
    bad_mode = await client.post(
        f"{API}/districts/{setup.lea}/loads",
        params={"mode": "append"},
        content=b"x",
        headers={**operator.headers, "Content-Type": "application/zip"},
    )
    assert bad_mode.status_code == 422 and "mode" in bad_mode.json()["errors"]
    missing = await client.get(
        f"{API}/districts/{setup.lea}/loads/00000000-0000-0000-0000-000000000000",
        headers=operator.headers,
    )
    assert missing.status_code == 404


async def test_loads_need_an_operator_token(client: httpx.AsyncClient, setup: Setup) -> None:
    response = await client.post(
        f"{API}/districts/{setup.lea}/loads",
        content=b"x",
        headers={"Content-Type": "application/zip"},
    )
    assert response.status_code == 401


async def test_the_loads_routes_are_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    create = document["paths"]["/admin/api/v1/districts/{lea}/loads"]["post"]
    assert "202" in create["responses"]
    assert "application/zip" in create["requestBody"]["content"]
    assert "get" in document["paths"]["/admin/api/v1/districts/{lea}/loads/{load_id}"]


async def test_a_bundle_larger_than_the_json_body_limit_is_accepted(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, tmp_path: Path
) -> None:
    body = large_bundle(setup.district_id, tmp_path / "big")
    assert len(body) > 2 * BODY_LIMIT
    response = await client.post(
        f"{API}/districts/{setup.lea}/loads", params={"mode": "merge"}, content=body,
        headers={**operator.headers, "Content-Type": "application/zip"},
    )  # fmt: skip
    assert response.status_code == 202, response.text
    loaded = await finished(client, operator, response.json()["links"]["self"])
    assert loaded["status"] == "succeeded", loaded["errors"][:3]
    assert loaded["source_bytes"] == len(body)
