"""The operators' console: districts, incoming connections and the one-time Information to
Share, consumers, who may reach /admin at all, and CSRF. Over HTTP, against real Postgres.

The other console pages have their own files (test_admin_outgoing, test_admin_credentials,
test_admin_users, test_admin_audit); they sign in with `sign_in_operator` from here.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass

import asyncpg
import httpx
import pytest

from gateway.control import credentials, users
from tests.conftest import unique_lea
from tests.factories import CONSUMER_ACTOR, add_consumer, add_district, token_response
from tests.secrets_seen import remember
from tests.web.test_login import PASSWORD, csrf, sign_in

# --- helpers shared by the console tests -----------------------------------------------------


@dataclass
class Console:
    """A signed-in operator's browser: the client and the session's CSRF token."""

    client: httpx.AsyncClient
    email: str
    token: str

    async def get(self, path: str, **params: str) -> httpx.Response:
        # httpx replaces a URL's own query with `params` when given, even empty ones.
        return await self.client.get(path, params=params) if params else await self.client.get(path)

    async def post(self, path: str, **data: str) -> httpx.Response:
        """Post a form as freshly loaded: with a new one-time form token unless `form_token`
        is given (a reload posts the same one again)."""
        fresh = {"form_token": secrets.token_urlsafe(16)}
        return await self.client.post(path, data={"csrf_token": self.token, **fresh, **data})


async def sign_in_operator(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    email = f"ops-{unique_lea().lower()}@dpi.example.gov"
    await users.add(
        control,
        email=email,
        role="operator",
        lea_code=None,
        password=PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    assert (await sign_in(client, email)).status_code == 303
    remember(client.cookies.get("etg_session"))
    home = await client.get("/admin/districts")
    assert home.status_code == 200
    return Console(client, email, csrf(home.text))


def shown(html: str, element_id: str) -> str:
    """The text of `<code id=element_id>` on an Information to Share page."""
    match = re.search(rf'<code id="{element_id}">([^<]+)</code>', html)
    assert match, f"no {element_id} on the page"
    return match.group(1)


def error_of(html: str, name: str) -> str:
    """The error shown next to a field, which the field points at with aria-describedby."""
    match = re.search(rf'<p class="field-error" id="f-{name}-error">([^<]+)</p>', html)
    assert match, f"no error shown for {name}"
    tag = re.search(rf'<input id="f-{name}"[^>]*>|<select id="f-{name}"[^>]*>', html)
    assert tag and 'aria-invalid="true"' in tag.group(0)
    assert f"f-{name}-error" in tag.group(0), "the field is not described by its error"
    return match.group(1)


async def until_refused(client: httpx.AsyncClient, client_id: str, secret: str) -> None:
    """Revocation reaches the token endpoint through the change feed, within moments."""
    deadline = time.monotonic() + 2.0
    while (await token_response(client, client_id, secret)).status_code != 401:
        assert time.monotonic() < deadline, "secret still accepted two seconds after revocation"
        await asyncio.sleep(0.02)


@dataclass
class Shared:
    lea: str
    client_id: str
    secret: str
    page: httpx.Response


async def create_incoming(console: Console, lea: str, consumer: str, name: str = "CFNC") -> Shared:
    response = await console.post(f"/admin/districts/{lea}/incoming", name=name, consumer=consumer)
    assert response.status_code == 200, response.text
    secret = shown(response.text, "share-secret")
    remember(secret)
    return Shared(lea, shown(response.text, "share-id"), secret, response)


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


# --- districts -------------------------------------------------------------------------------


async def test_operator_adds_a_district_and_finds_it(console: Console) -> None:
    lea = unique_lea()
    added = await console.post("/admin/districts", lea=lea.lower(), name="Wake County", kind="lea")
    assert added.status_code == 303
    assert added.headers["location"] == f"/admin/districts/{lea}?notice=district-added"
    assert (await console.get("/admin")).headers["location"] == "/admin/districts"
    page = await console.get(added.headers["location"])
    assert page.status_code == 200
    assert "Wake County" in page.text and "District added." in page.text
    # Both tables are there, empty.
    assert "Incoming Connections" in page.text and "Outgoing Connections" in page.text
    assert page.text.count("No records available.") == 2
    found = await console.get("/admin/districts", q=lea[:6])
    assert f'href="/admin/districts/{lea}"' in found.text
    missing = await console.get("/admin/districts", q="no-such-district-anywhere")
    assert lea not in missing.text and "No records available." in missing.text


async def test_adding_a_bad_or_duplicate_district_shows_the_errors(console: Console) -> None:
    bad = await console.post("/admin/districts", lea="not a code", name="", kind="county")
    assert bad.status_code == 422
    assert "LEA code: 3 to 10" in error_of(bad.text, "lea")
    assert error_of(bad.text, "name") == "Name is required (at most 200 characters)"
    assert error_of(bad.text, "kind") == "Kind is lea or charter"
    assert 'value="NOT A CODE"' in bad.text, "what was typed is kept"
    lea = unique_lea()
    assert (
        await console.post("/admin/districts", lea=lea, name="A", kind="lea")
    ).status_code == 303
    again = await console.post("/admin/districts", lea=lea, name="B", kind="charter")
    assert again.status_code == 409
    assert error_of(again.text, "lea") == "A district with this LEA code already exists"


async def test_suspend_and_resume(console: Console, owner_conn: asyncpg.Connection) -> None:
    district = await add_district(owner_conn, unique_lea())
    path = f"/admin/districts/{district.lea_code}"
    page = await console.get(path)
    assert "data-confirm=" in page.text and "Suspend district" in page.text
    suspended = await console.post(f"{path}/status", status="suspended")
    assert suspended.headers["location"] == f"{path}?notice=district-suspended"
    status = "SELECT status FROM districts WHERE lea_code = $1"
    assert await owner_conn.fetchval(status, district.lea_code) == "suspended"
    assert "Resume district" in (await console.get(path)).text
    await console.post(f"{path}/status", status="active")
    assert await owner_conn.fetchval(status, district.lea_code) == "active"
    assert (await console.post(f"{path}/status", status="deleted")).status_code == 400


async def test_unknown_district_is_404(console: Console) -> None:
    assert (await console.get("/admin/districts/ZZZZZZZZZZ")).status_code == 404
    assert (await console.get("/admin/districts/ZZZZZZZZZZ/incoming/new")).status_code == 404


# --- incoming connections --------------------------------------------------------------------


async def test_new_incoming_connection_shares_the_secret_once(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    lea = district.lea_code
    consumer = await add_consumer(control)
    form = await console.get(f"/admin/districts/{lea}/incoming/new")
    assert f'<option value="{consumer}">' in form.text

    shared = await create_incoming(console, lea, consumer, name="CFNC transcripts")
    page = shared.page
    assert page.headers["cache-control"] == "no-store"
    assert "Information to Share" in page.text and "shown this once" in page.text
    assert (
        shown(page.text, "share-url")
        == f"http://127.0.0.1:8000/api/v1/districts/{lea}/etranscripts"
    )
    assert shown(page.text, "share-token") == "http://127.0.0.1:8000/oauth2/token"
    for element in ("share-url", "share-token", "share-id", "share-secret"):
        assert f'data-copy="{element}"' in page.text
    assert f'href="/admin/districts/{lea}?notice=incoming-saved"' in page.text  # Save

    # The secret works at the token endpoint.
    assert (
        await token_response(console.client, shared.client_id, shared.secret)
    ).status_code == 200

    # ... and is never in any page again.
    later = [
        await console.get(f"/admin/districts/{lea}", notice="incoming-saved"),
        await console.get("/admin/credentials"),
        await console.get("/admin/credentials", district=lea),
        await console.get("/admin/audit"),
        await console.get("/admin/audit", district=lea),
        await console.get(f"/admin/districts/{lea}/incoming/new"),
    ]
    for response in later:
        assert response.status_code == 200
        assert shared.secret not in response.text
    district_page = later[0].text
    assert "Incoming connection saved." in district_page
    assert shared.client_id in district_page and "CFNC transcripts" in district_page
    assert "••••••••" in district_page
    assert shared.client_id in later[2].text


async def test_new_incoming_connection_needs_a_name_and_a_consumer(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    await add_consumer(control)
    response = await console.post(
        f"/admin/districts/{district.lea_code}/incoming", name=" ", consumer=""
    )
    assert response.status_code == 422
    assert error_of(response.text, "name") == "Name is required"
    assert error_of(response.text, "consumer") == "Choose a consumer"
    unknown = await console.post(
        f"/admin/districts/{district.lea_code}/incoming", name="X", consumer="Nobody at all"
    )
    assert error_of(unknown.text, "consumer") == "No such consumer"
    assert await credentials.list_credentials(control, district.lea_code) == []


async def test_cancel_revokes_the_new_connection_at_once(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    shared = await create_incoming(console, district.lea_code, await add_consumer(control))
    cancel = f"/admin/districts/{district.lea_code}/incoming/{shared.client_id}/cancel"
    assert f'action="{cancel}"' in shared.page.text
    response = await console.post(cancel)
    assert response.status_code == 303
    assert response.headers["location"].endswith("?notice=incoming-cancelled")
    assert (await credentials.get(control, shared.client_id))["status"] == "revoked"
    await until_refused(console.client, shared.client_id, shared.secret)
    audited = await control.fetchrow(
        "SELECT actor_type, actor FROM audit_log WHERE action = 'credential.revoke' AND target = $1",
        shared.client_id,
    )
    assert audited is not None and tuple(audited) == ("operator", console.email)


async def test_cancel_is_only_for_a_connection_just_made(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    # Issued elsewhere (the CLI): Cancel is not the way to end it, Delete is.
    older = await credentials.issue(
        control,
        lea_code=district.lea_code,
        consumer=await add_consumer(control),
        label="from the CLI",
        actor=CONSUMER_ACTOR,
    )
    remember(older.client_secret)
    path = f"/admin/districts/{district.lea_code}/incoming/{older.client_id}/cancel"
    assert (await console.post(path)).status_code == 409
    assert (await credentials.get(control, older.client_id))["status"] == "active"


async def test_delete_asks_then_revokes(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    district = await add_district(owner_conn, unique_lea())
    consumer = await add_consumer(control)
    shared = await create_incoming(console, district.lea_code, consumer)
    path = f"/admin/districts/{district.lea_code}/incoming/{shared.client_id}/delete"
    assert f'href="{path}"' in (await console.get(f"/admin/districts/{district.lea_code}")).text
    confirm = await console.get(path)
    assert confirm.status_code == 200
    assert f"{consumer} will lose access" in confirm.text and "at once" in confirm.text
    assert (await credentials.get(control, shared.client_id))["status"] == "active", (
        "GET changes nothing"
    )
    deleted = await console.post(path)
    assert deleted.headers["location"].endswith("?notice=incoming-deleted")
    assert (await credentials.get(control, shared.client_id))["status"] == "revoked"
    await until_refused(console.client, shared.client_id, shared.secret)
    assert (await console.get(path)).status_code == 409, "already revoked"


async def test_a_credential_is_reached_only_through_its_own_district(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    mine = await add_district(owner_conn, unique_lea())
    other = await add_district(owner_conn, unique_lea())
    shared = await create_incoming(console, mine.lea_code, await add_consumer(control))
    wrong = f"/admin/districts/{other.lea_code}/incoming/{shared.client_id}/delete"
    assert (await console.get(wrong)).status_code == 404
    assert (await console.post(wrong)).status_code == 404
    assert (await credentials.get(control, shared.client_id))["status"] == "active"


# --- consumers -------------------------------------------------------------------------------


async def test_consumers_list_and_add(console: Console) -> None:
    name = f"CFNC {unique_lea()}"
    added = await console.post("/admin/consumers", name=name, description="College Foundation")
    assert added.headers["location"] == "/admin/consumers?notice=consumer-added"
    page = await console.get("/admin/consumers")
    assert name in page.text and "College Foundation" in page.text
    again = await console.post("/admin/consumers", name=name)
    assert again.status_code == 409
    assert error_of(again.text, "name") == "A consumer of this name already exists"
    empty = await console.post("/admin/consumers", name="")
    assert empty.status_code == 422 and error_of(empty.text, "name")


# --- who may use the console -----------------------------------------------------------------

# Every console route refusing a district user (and the signed-out): tests/web/test_guards.py,
# which walks the app's routes.


async def test_a_post_without_the_csrf_token_is_refused(
    console: Console, owner_conn: asyncpg.Connection
) -> None:
    lea = unique_lea()
    for token in (None, "forged-token"):
        data = {"lea": lea, "name": "Forged", "kind": "lea"}
        if token:
            data["csrf_token"] = token
        response = await console.client.post("/admin/districts", data=data)
        assert response.status_code == 403
    # From another site, even with the right token.
    cross = await console.client.post(
        "/admin/districts",
        data={"csrf_token": console.token, "lea": lea, "name": "Forged", "kind": "lea"},
        headers={"Origin": "https://evil.example"},
    )
    assert cross.status_code == 403
    assert await owner_conn.fetchval("SELECT count(*) FROM districts WHERE lea_code = $1", lea) == 0


async def test_signed_out_visitor_is_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/credentials")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/credentials"
