"""The Test button of an outgoing connection, over HTTP against the fake vendor on loopback:
without JavaScript (303, then the page says "Test initiated" and later the result), with it
(202, then the JSON status), one test at a time per connection, and who may press it."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import users, vendors
from gateway.outgoing.probe import FAILED, VALID
from gateway.web.connection_tests import ConnectionTests, ProbeState
from tests.conftest import unique_lea
from tests.factories import CONSUMER_ACTOR, add_district
from tests.outgoing.conftest import add_connection, spec_for, wrong_secret
from tests.outgoing.fake_vendor import FakeVendor, Faults
from tests.secrets_seen import remember
from tests.web.test_admin_pages import Console, sign_in_operator
from tests.web.test_login import PASSWORD, sign_in


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


@pytest.fixture
async def lea(owner_conn: asyncpg.Connection) -> str:
    return (await add_district(owner_conn, unique_lea())).lea_code


async def connect(control: asyncpg.Connection, lea: str, vendor: FakeVendor, **kw: Any) -> UUID:
    return await add_connection(control, lea, spec_for(vendor, **kw), tested=False)


async def status(console: Console, connection_id: UUID) -> dict[str, Any]:
    response = await console.get(f"/admin/outgoing/{connection_id}/test")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, Any] = response.json()
    return body


async def finished(console: Console, connection_id: UUID, within: float = 10.0) -> dict[str, Any]:
    """Poll the status as app.js does until the test is no longer running."""
    deadline = time.monotonic() + within
    while (body := await status(console, connection_id))["state"] == "running":
        assert time.monotonic() < deadline, "the test did not finish"
        await asyncio.sleep(0.05)
    return body


def live_region(html: str, region_id: str) -> str:
    """The text of the polite live region that shows a test's state."""
    match = re.search(
        rf'<span class="test-result[^"]*" id="{region_id}"([^>]*)>(.*?)</span>\s*</span>',
        html,
        re.S,
    )
    assert match, f"no live region {region_id}"
    assert 'aria-live="polite"' in match.group(1)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(2))).strip()


async def test_without_javascript_the_post_redirects_and_the_page_shows_the_result(
    console: Console, control: asyncpg.Connection, lea: str, vendor: FakeVendor
) -> None:
    connection_id = await connect(control, lea, vendor)
    page_url = f"/admin/districts/{lea}/outgoing/{connection_id}"
    before = await console.get(page_url)
    assert live_region(before.text, "test-result") == "Not tested"
    assert f'action="/admin/outgoing/{connection_id}/test"' in before.text

    started = await console.post(f"/admin/outgoing/{connection_id}/test")

    assert started.status_code == 303
    assert started.headers["location"] == f"{page_url}#connection-test"
    assert (await finished(console, connection_id))["ok"] is True
    after = await console.get(page_url)
    assert live_region(after.text, "test-result").startswith(VALID)
    assert "Token obtained; the upload endpoint answered 204" in after.text
    stored = await vendors.get(control, connection_id)
    assert stored["last_test_ok"] is True and stored["last_test_at"] is not None
    audit = await control.fetchrow(
        "SELECT actor, actor_type, outcome FROM audit_log WHERE action = 'outgoing.test'"
        " AND target = $1",
        str(connection_id),
    )
    assert audit is not None
    assert (audit["actor_type"], audit["actor"], audit["outcome"]) == (
        "operator",
        console.email,
        "success",
    )
    assert vendor.upload_calls == 0, "a test never uploads"


async def test_with_javascript_202_then_the_status_says_why_it_failed(
    console: Console, control: asyncpg.Connection, lea: str, vendor: FakeVendor
) -> None:
    connection_id = await connect(control, lea, vendor, password=wrong_secret())
    assert await status(console, connection_id) == {
        "state": "idle",
        "ok": None,
        "headline": "Not tested",
        "reason": None,
        "message": "",
        "tested_at": None,
    }

    started = await console.client.post(
        f"/admin/outgoing/{connection_id}/test",
        data={"csrf_token": console.token},
        headers={"Accept": "application/json"},
    )

    assert started.status_code == 202
    assert started.json() == {
        **ProbeState("running").as_json(),
        "status_url": f"/admin/outgoing/{connection_id}/test",
    }
    result = await finished(console, connection_id)
    assert result["state"] == "done"
    assert (result["ok"], result["headline"], result["reason"]) == (
        False,
        FAILED,
        "401 from the auth server",
    )
    assert "user name or password was refused" in result["message"]
    assert result["tested_at"]
    page = await console.get(f"/admin/districts/{lea}/outgoing/{connection_id}")
    assert live_region(page.text, "test-result").startswith(f"{FAILED}: 401 from the auth server")
    listed = await console.get(f"/admin/districts/{lea}")
    # The district's page shows the stored outcome in the same kind of live region.
    assert live_region(listed.text, f"test-{connection_id}").startswith(f"{FAILED}: 401")


async def test_while_running_the_page_says_initiated_and_a_second_click_joins_it(
    console: Console, control: asyncpg.Connection, lea: str, vendor: FakeVendor
) -> None:
    vendor.reset(Faults(token_delay=0.6))
    connection_id = await connect(control, lea, vendor)
    await console.post(f"/admin/outgoing/{connection_id}/test")

    assert (await status(console, connection_id))["state"] == "running"
    page = await console.get(f"/admin/districts/{lea}/outgoing/{connection_id}")
    assert live_region(page.text, "test-result") == "Test initiated"
    assert "Reload to see the result" in page.text, "the way forward without JavaScript"
    assert (await console.post(f"/admin/outgoing/{connection_id}/test")).status_code == 303

    assert (await finished(console, connection_id))["headline"] == VALID
    assert vendor.token_calls == 1, "the second click started no second test"


async def test_only_operators_may_test_and_the_form_needs_its_token(
    client: httpx.AsyncClient,
    console: Console,
    control: asyncpg.Connection,
    gateway_app: Starlette,
    lea: str,
    vendor: FakeVendor,
) -> None:
    connection_id = await connect(control, lea, vendor)
    url = f"/admin/outgoing/{connection_id}/test"
    assert (await client.post(url, data={"csrf_token": "forged"})).status_code == 403
    assert (await console.get("/admin/outgoing/not-a-uuid/test")).status_code == 404
    unknown = await console.post(f"/admin/outgoing/{UUID(int=7)}/test")
    assert unknown.status_code == 404
    email = f"registrar-{lea.lower()}@district.example"
    await users.add(
        control, email=email, role="district", lea_code=lea, password=PASSWORD, actor=CONSUMER_ACTOR
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app, client=("198.51.100.77", 40000)),
        base_url=console.client.base_url,
    ) as registrar:
        assert (await sign_in(registrar, email)).status_code == 303
        remember(registrar.cookies.get("etg_session"))
        assert (await registrar.get(url)).status_code == 404
        assert (await registrar.post(url, data={"csrf_token": "x"})).status_code == 403
    assert vendor.token_calls == 0
    assert (await vendors.get(control, connection_id))["last_test_at"] is None


def test_a_test_that_crashed_is_a_failure_with_a_reason() -> None:
    async def broken() -> Any:
        raise RuntimeError("database gone")

    async def run() -> ProbeState:
        tests = ConnectionTests()
        connection_id = UUID(int=1)
        tests.start(connection_id, broken)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        row = {"connection_id": connection_id, "last_test_at": None}
        return tests.state_of(row)

    state = asyncio.run(run())
    assert (state.state, state.ok, state.reason) == ("done", False, "error")
    assert state.text == f"{FAILED}: error"
