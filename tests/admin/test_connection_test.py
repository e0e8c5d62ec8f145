"""POST /admin/api/v1/outgoing/{id}/test: the connection test against the fake vendor, its
answer as documented, the result stored on the connection and audited under the operator."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import jsonschema

from gateway.control import vendors
from gateway.outgoing.probe import FAILED, VALID
from tests.admin.conftest import API, Operator, Setup
from tests.outgoing.conftest import add_connection, spec_for, wrong_secret
from tests.outgoing.fake_vendor import FakeVendor


async def run_test(client: httpx.AsyncClient, operator: Operator, ident: object) -> httpx.Response:
    return await client.post(f"{API}/outgoing/{ident}/test", headers=operator.headers)


async def documented(client: httpx.AsyncClient) -> dict[str, Any]:
    spec = (await client.get("/openapi.json")).json()
    answer = spec["paths"][f"{API}/outgoing/{{connection_id}}/test"]["post"]["responses"]["200"]
    schema: dict[str, Any] = answer["content"]["application/json"]["schema"]
    return schema


async def test_a_valid_connection_is_valid_stored_and_audited(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    control: asyncpg.Connection,
    vendor: FakeVendor,
) -> None:
    connection_id = await add_connection(control, setup.lea, spec_for(vendor), tested=False)

    response = await run_test(client, operator, connection_id)

    assert response.status_code == 200
    body = response.json()
    jsonschema.validate(body, await documented(client))
    assert (body["ok"], body["headline"], body["reason"], body["upload_status"]) == (
        True,
        VALID,
        None,
        204,
    )
    assert body["connection_id"] == str(connection_id)
    stored = await vendors.get(control, connection_id)
    assert stored["last_test_ok"] is True and stored["last_test_at"] is not None
    actor = await control.fetchval(
        "SELECT actor FROM audit_log WHERE action = 'outgoing.test' AND target = $1",
        str(connection_id),
    )
    assert actor == operator.client_id
    assert vendor.upload_calls == 0


async def test_a_wrong_password_fails_with_the_reason(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    control: asyncpg.Connection,
    vendor: FakeVendor,
) -> None:
    connection_id = await add_connection(
        control, setup.lea, spec_for(vendor, password=wrong_secret()), tested=False
    )

    response = await run_test(client, operator, connection_id)

    assert response.status_code == 200, "a failing vendor is a result, not an error"
    body = response.json()
    jsonschema.validate(body, await documented(client))
    assert (body["ok"], body["headline"], body["kind"], body["reason"]) == (
        False,
        FAILED,
        "auth",
        "401 from the auth server",
    )
    assert "user name or password was refused" in body["message"]
    assert (await vendors.get(control, connection_id))["last_test_ok"] is False


async def test_unknown_connections_are_404(
    client: httpx.AsyncClient, operator: Operator, vendor: FakeVendor
) -> None:
    for ident in (uuid.uuid4(), "not-a-uuid", UUID(int=0)):
        assert (await run_test(client, operator, ident)).status_code == 404
    assert vendor.token_calls == 0
