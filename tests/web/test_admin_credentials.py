"""/admin/credentials: every key/secret pair with filters; rotate (the new secret shown once,
with the chosen overlap) and revoke (after a confirmation page)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from gateway.control import credentials
from tests.conftest import unique_lea
from tests.factories import add_consumer, add_district, issue, token_response
from tests.secrets_seen import remember
from tests.web.test_admin_pages import Console, shown, sign_in_operator, until_refused


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


async def test_filters_by_district_and_consumer(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    one = (await add_district(owner_conn, unique_lea())).lea_code
    two = (await add_district(owner_conn, unique_lea())).lea_code
    cfnc, other = await add_consumer(control), await add_consumer(control)
    a = await issue(control, one, cfnc)
    b = await issue(control, two, cfnc)
    c = await issue(control, one, other)
    by_district = (await console.get("/admin/credentials", district=one.lower())).text
    assert a.client_id in by_district and c.client_id in by_district
    assert b.client_id not in by_district
    both = (await console.get("/admin/credentials", district=one, consumer=cfnc)).text
    assert a.client_id in both and b.client_id not in both and c.client_id not in both
    assert f'<option value="{cfnc}" selected>' in both
    nothing = (await console.get("/admin/credentials", district="ZZZZZZZZZZ")).text
    assert "No records available." in nothing
    for page in (by_district, both):
        assert a.client_secret not in page and c.client_secret not in page


async def test_rotate_shows_the_new_secret_once(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    old = await issue(control, lea, await add_consumer(control))
    listing = (await console.get("/admin/credentials", district=lea)).text
    assert f'action="/admin/credentials/{old.client_id}/rotate"' in listing
    assert '<option value="86400" selected>24 hours</option>' in listing

    rotated = await console.post(f"/admin/credentials/{old.client_id}/rotate", overlap="0")
    assert rotated.status_code == 200
    assert rotated.headers["cache-control"] == "no-store"
    secret = shown(rotated.text, "share-secret")
    remember(secret)
    assert secret != old.client_secret
    assert shown(rotated.text, "share-id") == old.client_id
    assert shown(rotated.text, "share-url").endswith(f"/api/v1/districts/{lea}/etranscripts")
    assert "The previous secret no longer works." in rotated.text

    await until_refused(console.client, old.client_id, old.client_secret)
    assert (await token_response(console.client, old.client_id, secret)).status_code == 200
    for path in ("/admin/credentials", f"/admin/districts/{lea}", "/admin/audit"):
        assert secret not in (await console.get(path)).text
    detail = await control.fetchval(
        "SELECT detail->>'overlap_seconds' FROM audit_log"
        " WHERE action = 'credential.rotate' AND target = $1 AND actor = $2",
        old.client_id,
        console.email,
    )
    assert detail == "0"


async def test_rotate_with_overlap_keeps_the_old_secret_working(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    old = await issue(control, lea, await add_consumer(control))
    rotated = await console.post(f"/admin/credentials/{old.client_id}/rotate", overlap="3600")
    remember(shown(rotated.text, "share-secret"))
    assert "keeps working for 1 hour" in rotated.text
    assert (
        await token_response(console.client, old.client_id, old.client_secret)
    ).status_code == 200
    listing = (await console.get("/admin/credentials", district=lea)).text
    assert "previous secret until" in listing
    bad = await console.post(f"/admin/credentials/{old.client_id}/rotate", overlap="999999999")
    assert bad.status_code == 400


async def test_revoke_asks_then_revokes(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    consumer = await add_consumer(control)
    pair = await issue(control, lea, consumer)
    path = f"/admin/credentials/{pair.client_id}/revoke"
    confirm = await console.get(path)
    assert confirm.status_code == 200
    assert f"{consumer} will lose access to {lea}" in confirm.text
    assert (await credentials.get(control, pair.client_id))["status"] == "active"
    revoked = await console.post(path)
    assert revoked.headers["location"] == "/admin/credentials?notice=credential-revoked"
    assert (await credentials.get(control, pair.client_id))["status"] == "revoked"
    await until_refused(console.client, pair.client_id, pair.client_secret)
    # Revoked: no more rotate or revoke controls, and both are refused.
    listing = (await console.get("/admin/credentials", district=lea)).text
    assert path not in listing and "/rotate" not in listing
    assert (
        await console.post(f"/admin/credentials/{pair.client_id}/rotate", overlap="0")
    ).status_code == 409
    assert (await console.get(path)).status_code == 409
    assert (await console.get("/admin/credentials/nobody-0000/revoke")).status_code == 404
