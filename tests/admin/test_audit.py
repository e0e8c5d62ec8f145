"""/admin/api/v1/audit, and that every write through the admin API is audited under the
operator credential that made it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx

from tests.admin.conftest import API, Operator, Setup
from tests.admin.workload import do_everything
from tests.outgoing.fake_vendor import FakeVendor


async def test_every_write_is_audited_under_the_operator_credential(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    vendor: FakeVendor,
    control: asyncpg.Connection,
) -> None:
    work = await do_everything(client, operator, setup, vendor)
    response = await client.get(
        f"{API}/audit",
        params={"actor": operator.client_id, "actor_type": "operator", "limit": 1000},
        headers=operator.headers,
    )
    assert response.status_code == 200
    # Token requests are audited too (as the operator), in batches a moment later; they are
    # checked below, apart from the writes.
    events = [e for e in response.json()["items"] if e["action"] != "token.issue"]
    by_request: dict[str, set[str]] = {}
    for event in events:
        assert event["actor_type"] == "operator"
        assert event["actor"] == operator.client_id
        assert event["source_addr"] == "203.0.113.7"
        by_request.setdefault(event["request_id"], set()).add(event["action"])
    for request_id, action in work.actions.items():
        assert action in by_request.get(request_id, set()), (request_id, action)
    # The same rows, straight from the table: the API shows what is stored.
    stored = await control.fetchval(
        "SELECT count(*) FROM audit_log WHERE actor_type = 'operator' AND actor = $1"
        " AND action <> 'token.issue'",
        operator.client_id,
    )
    assert stored == len(events)
    # Its own token request is the token endpoint's event, under the same client id; those
    # are written in batches, a moment later.
    deadline = time.monotonic() + 2.0
    while not await _token_events(client, operator):
        assert time.monotonic() < deadline, "the operator's token request was not audited"
        await asyncio.sleep(0.05)


async def _token_events(client: httpx.AsyncClient, operator: Operator) -> list[object]:
    params = {"actor": operator.client_id, "action": "token.issue", "actor_type": "operator"}
    response = await client.get(f"{API}/audit", params=params, headers=operator.headers)
    items: list[object] = response.json()["items"]
    return items


async def test_filters_combine(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, vendor: FakeVendor
) -> None:
    work = await do_everything(client, operator, setup, vendor)

    async def search(**params: object) -> list[dict[str, object]]:
        response = await client.get(f"{API}/audit", params=params, headers=operator.headers)
        assert response.status_code == 200, response.text
        items: list[dict[str, object]] = response.json()["items"]
        return items

    added = await search(action="district.add", district=work.new_lea.lower())
    assert [(e["action"], e["district"], e["target"]) for e in added] == [
        ("district.add", work.new_lea, work.new_lea)
    ]
    issued = await search(action="credential.issue", actor=operator.client_id, outcome="success")
    assert [e["target"] for e in issued] == [work.client_id]
    assert issued[0]["detail"] == {"consumer": setup.consumer, "label": "workload"}
    mine = await search(actor=operator.client_id)
    assert [e["occurred_at"] for e in mine] == sorted(
        (e["occurred_at"] for e in mine), reverse=True
    ), "newest first"
    assert await search(actor=operator.client_id, outcome="denied") == []
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert await search(actor=operator.client_id, since=tomorrow) == []
    assert await search(actor=operator.client_id, until="2020-01-01") == []
    assert len(await search(actor=operator.client_id, until=tomorrow)) == len(mine)


async def test_paging(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, vendor: FakeVendor
) -> None:
    await do_everything(client, operator, setup, vendor)
    url = f"{API}/audit"
    params = {"actor": operator.client_id, "limit": 3}
    first = (await client.get(url, params=params, headers=operator.headers)).json()
    assert len(first["items"]) == 3
    assert first["next_before"] == first["items"][-1]["audit_id"]
    second = (
        await client.get(
            url, params={**params, "before": first["next_before"]}, headers=operator.headers
        )
    ).json()
    assert {e["audit_id"] for e in first["items"]}.isdisjoint(
        e["audit_id"] for e in second["items"]
    )
    assert first["items"][-1]["audit_id"] > second["items"][0]["audit_id"]


async def test_bad_parameters_are_422(client: httpx.AsyncClient, operator: Operator) -> None:
    response = await client.get(
        f"{API}/audit",
        params={"since": "last week", "outcome": "maybe", "limit": "0", "who": "me"},
        headers=operator.headers,
    )
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"outcome", "limit", "who"}, "shape first"
    dates = await client.get(
        f"{API}/audit", params={"since": "last week", "district": "9-2"}, headers=operator.headers
    )
    assert set(dates.json()["errors"]) == {"since", "district"}
