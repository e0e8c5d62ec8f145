"""/admin/audit: every operator action is there (who, what, when, from where), filtered and
paged newest first; and `read_audit`, the page's query, on its own."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from gateway.audit import Actor, AuditEvent, record
from gateway.control.audit_log import AuditFilter, read_audit
from tests.conftest import unique_lea
from tests.web.test_admin_pages import Console, error_of, sign_in_operator


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


def actions(html: str) -> list[str]:
    """The Action column, top to bottom."""
    return re.findall(r'<td class="mono">([a-z_]+\.[a-z_.]+)</td>', html)


async def test_operator_actions_are_in_the_log(console: Console) -> None:
    lea = unique_lea()
    await console.post("/admin/districts", lea=lea, name="Audit County", kind="lea")
    await console.post(f"/admin/districts/{lea}/status", status="suspended")
    page = await console.get("/admin/audit", district=lea)
    assert page.status_code == 200
    assert actions(page.text) == ["district.suspend", "district.add"], "newest first"
    assert page.text.count(console.email) >= 2
    assert '<span class="badge badge--muted">operator</span>' in page.text
    assert "203.0.113.7" in page.text, "the source address is shown"
    assert '{"kind":"lea","name":"Audit County"}' in html.unescape(page.text), "detail, compact"


async def test_filters(console: Console) -> None:
    lea = unique_lea()
    await console.post("/admin/districts", lea=lea, name="Filter County", kind="lea")
    await console.post(f"/admin/districts/{lea}/status", status="suspended")
    await console.post(f"/admin/districts/{lea}/status", status="active")
    prefix = await console.get("/admin/audit", district=lea, action="district.s")
    assert actions(prefix.text) == ["district.suspend"]
    who = console.email.split("@")[0].upper()
    mine = await console.get("/admin/audit", actor=who, action="district.")
    assert actions(mine.text) == ["district.resume", "district.suspend", "district.add"]
    assert actions((await console.get("/admin/audit", district=lea, outcome="failure")).text) == []
    today = datetime.now(UTC).date()
    same_day = await console.get(
        "/admin/audit", district=lea, since=today.isoformat(), until=today.isoformat()
    )
    assert len(actions(same_day.text)) == 3
    tomorrow = (today + timedelta(days=1)).isoformat()
    yesterday = (today - timedelta(days=1)).isoformat()
    assert actions((await console.get("/admin/audit", district=lea, since=tomorrow)).text) == []
    assert actions((await console.get("/admin/audit", district=lea, until=yesterday)).text) == []
    # The filters stay filled in.
    assert f'value="{lea}"' in prefix.text and 'value="district.s"' in prefix.text


async def test_bad_filters_are_named(console: Console) -> None:
    response = await console.get("/admin/audit", since="31/12/2025", outcome="maybe")
    assert response.status_code == 400
    assert error_of(response.text, "since") == "A date as YYYY-MM-DD"
    assert error_of(response.text, "outcome") == "success, failure or denied"


async def test_pages_newest_first(console: Console, control: asyncpg.Connection) -> None:
    actor = Actor("system", f"pager-{unique_lea()}")
    start = datetime.now(UTC) - timedelta(hours=1)
    for n in range(60):
        when = start + timedelta(seconds=n)
        await record(control, AuditEvent(actor, "test.page", target=f"t{n:02d}", occurred_at=when))
    first = await console.get("/admin/audit", actor=actor.name)
    targets = re.findall(r'<td class="mono">(t\d\d)</td>', first.text)
    assert targets == [f"t{n:02d}" for n in range(59, 9, -1)]
    older = re.search(r'href="(/admin/audit\?[^"]*before=\d+)"', first.text)
    assert older and "Newer" not in first.text
    second = await console.get(older.group(1).replace("&amp;", "&"))
    assert re.findall(r'<td class="mono">(t\d\d)</td>', second.text) == [
        f"t{n:02d}" for n in range(9, -1, -1)
    ]
    assert "Older" not in second.text
    newer = re.search(r'href="(/admin/audit\?[^"]*after=\d+)"', second.text)
    assert newer
    back = await console.get(newer.group(1).replace("&amp;", "&"))
    assert re.findall(r'<td class="mono">(t\d\d)</td>', back.text) == targets


async def test_read_audit_filters_and_cursors(control: asyncpg.Connection) -> None:
    actor = Actor("operator", f"reader-{unique_lea()}@dpi.example.gov", "192.0.2.9")
    midnight = datetime(2024, 3, 1, tzinfo=UTC)
    at = datetime(2024, 3, 1, 23, 59, tzinfo=UTC)
    await record(control, AuditEvent(actor, "credential.issue", occurred_at=at))
    await record(control, AuditEvent(actor, "credential.revoke", "denied", occurred_at=at))
    await record(control, AuditEvent(actor, "user.add", occurred_at=at + timedelta(minutes=2)))
    mine = AuditFilter(actor_contains=actor.name.upper())
    everything = await read_audit(control, mine)
    assert [r["action"] for r in everything.rows] == [
        "user.add",
        "credential.revoke",
        "credential.issue",
    ]
    assert everything.rows[0]["source_addr"] == "192.0.2.9"
    assert (everything.newer, everything.older) == (None, None)
    only_day = await read_audit(
        control, AuditFilter(actor=actor.name, since=midnight, until=midnight + timedelta(days=1))
    )
    assert [r["action"] for r in only_day.rows] == ["credential.revoke", "credential.issue"]
    denied = await read_audit(control, AuditFilter(actor=actor.name, outcome="denied"))
    assert [r["action"] for r in denied.rows] == ["credential.revoke"]
    # The prefix is literal: "_" and "%" are not wildcards.
    assert (
        await read_audit(control, AuditFilter(actor=actor.name, action_prefix="credential_"))
    ).rows == []
    first = await read_audit(control, mine, limit=2)
    assert first.older is not None and first.newer is None
    rest = await read_audit(control, mine, before=first.older, limit=2)
    assert [r["action"] for r in rest.rows] == ["credential.issue"]
    assert rest.newer == rest.rows[0]["audit_id"] and rest.older is None
