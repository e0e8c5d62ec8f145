"""POST /admin/api/v1/districts/{lea}/loads: the file as the body, 202, then poll the load."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.admin.schemas import BODY_LIMIT
from tenants.loading import uploads
from tenants.loading.template import write_template
from tenants.loading.uploads import load_slots, wait_all
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


async def test_uploads_past_the_slots_wait_and_past_the_queue_are_503_holding_no_pooled_connection(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    tmp_path: Path,
    gateway_app: Starlette,
    control: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A script uploading every district at once took a pooled control connection per load
    for as long as it ran, and the gateway answered nobody else until they were done."""
    services = gateway_app.state.services
    slots = load_slots(1, 2)
    monkeypatch.setattr(services, "loads", slots)
    write_template(tmp_path / "b", example=True)
    body = zipped(tmp_path / "b")
    pool = services.stores.control
    held_before = pool.holding_tasks()  # the fixtures' own

    async def upload() -> httpx.Response:
        return await client.post(
            f"{API}/districts/{setup.lea}/loads",
            params={"filename": "example.zip", "mode": "merge"},
            content=body,
            headers={**operator.headers, "Content-Type": "application/zip"},
        )

    async with slots.turn():  # the one slot is taken: every upload waits its turn
        accepted = [await upload() for _ in range(3)]
        assert [r.status_code for r in accepted] == [202, 202, 202]
        refused = await upload()
        assert refused.status_code == 503, refused.text
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert slots.admitted == 3
        # Each waiting load is recorded as running and held, by a connection of its own.
        running = await control.fetchval(
            "SELECT count(*) FROM district_loads WHERE status = 'running' AND load_id = ANY($1)",
            [UUID(r.json()["load_id"]) for r in accepted],
        )
        assert running == 3
        waiting = set(uploads._RUNNING)
        assert len(waiting) == 3
        # A pooled connection held for a load would be held by it, or by the request that
        # started it (here the test's own task: the test client runs the app in it).
        holders = pool.holding_tasks() - held_before
        assert not [t for t in holders if t.done() or t in waiting], "a load holds the pool"
        assert pool.held_by_this_task() == 0, "a load's request left it holding the pool"
    outcomes = [await finished(client, operator, r.json()["links"]["self"]) for r in accepted]
    assert [o["status"] for o in outcomes] == ["succeeded", "unchanged", "unchanged"]
    assert slots.admitted == 0
    recorded = await control.fetchval(
        "SELECT count(*) FROM district_loads d JOIN districts USING (district_id)"
        " WHERE lea_code = $1",
        setup.lea,
    )
    assert recorded == 3, "the refused upload recorded nothing"


async def test_a_load_cancelled_while_waiting_its_turn_is_recorded_and_let_go(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    tmp_path: Path,
    gateway_app: Starlette,
    control: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slots = load_slots(1, 1)
    monkeypatch.setattr(gateway_app.state.services, "loads", slots)
    write_template(tmp_path / "b", example=True)
    async with slots.turn():
        response = await client.post(
            f"{API}/districts/{setup.lea}/loads",
            params={"filename": "example.zip"},
            content=zipped(tmp_path / "b"),
            headers={**operator.headers, "Content-Type": "application/zip"},
        )
        assert response.status_code == 202
        for task in list(uploads._RUNNING):
            task.cancel()
        await wait_all()
    body = await finished(client, operator, response.json()["links"]["self"])
    assert body["status"] == "failed"
    assert "interrupted before it began" in body["message"]
    assert slots.admitted == 0
    holders = await control.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
    )
    assert holders == 0, "the waiting load's own connection let go of its lock"
