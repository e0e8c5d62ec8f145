"""Console forms whose answer is shown once (issue 11): posted twice with the same one-time
token, as a browser's reload does, they act once and then redirect to where the result is
listed; the secret or link is never shown a second time. Without a token: 400, nothing done."""

from __future__ import annotations

import re
import secrets

import asyncpg
import httpx
import pytest

from gateway.control import credentials
from tests.conftest import unique_lea
from tests.factories import add_consumer, add_district, issue, token_response
from tests.secrets_seen import remember
from tests.web.test_admin_pages import Console, shown, sign_in_operator


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


def form_token(html: str, action: str) -> str:
    """The one-time token of the form posting to `action`, as the page rendered it."""
    form = html[html.index(f'action="{action}"') :]
    match = re.search(r'name="form_token" value="([^"]+)"', form[: form.index("</form>")])
    assert match, f"no form token in the form to {action}"
    return match.group(1)


async def test_a_repeated_new_incoming_connection_creates_one_credential(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    consumer = await add_consumer(control)
    action = f"/admin/districts/{lea}/incoming"
    token = form_token((await console.get(f"{action}/new")).text, action)

    first = await console.post(action, name="Once", consumer=consumer, form_token=token)
    assert first.status_code == 200
    secret = shown(first.text, "share-secret")
    remember(secret)
    again = await console.post(action, name="Once", consumer=consumer, form_token=token)
    assert again.status_code == 303
    assert again.headers["location"] == f"/admin/districts/{lea}?notice=incoming-already-created"
    assert secret not in again.text
    assert len(await credentials.list_credentials(control, lea)) == 1


async def test_a_repeated_rotation_rotates_once_and_its_secret_keeps_working(
    console: Console,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    client: httpx.AsyncClient,
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    old = await issue(control, lea, await add_consumer(control))
    action = f"/admin/credentials/{old.client_id}/rotate"
    token = form_token((await console.get("/admin/credentials", district=lea)).text, action)

    first = await console.post(action, overlap="0", form_token=token)
    secret = shown(first.text, "share-secret")
    remember(secret)
    again = await console.post(action, overlap="0", form_token=token)
    assert again.status_code == 303
    assert again.headers["location"] == "/admin/credentials?notice=credential-already-rotated"
    assert (await token_response(client, old.client_id, secret)).status_code == 200


async def test_a_repeated_invite_makes_one_link(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    email = f"once-{secrets.token_hex(3)}@district.example"
    token = form_token((await console.get("/admin/users")).text, "/admin/users")
    fields = {"email": email, "role": "district", "district": lea, "form_token": token}
    first = await console.post("/admin/users", **fields)
    assert first.status_code == 200 and "/invite/" in first.text
    remember(first.text.split("/invite/", 1)[1].split('"', 1)[0].split("<", 1)[0])
    again = await console.post("/admin/users", **fields)
    assert again.status_code == 303
    assert again.headers["location"] == "/admin/users?notice=user-already-invited"
    invites = await control.fetchval(
        "SELECT count(*) FROM user_invites i JOIN web_users u USING (user_id) WHERE u.email = $1",
        email,
    )
    assert invites == 1


async def test_a_form_without_its_token_is_refused_and_does_nothing(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    consumer = await add_consumer(control)
    refused = await console.client.post(
        f"/admin/districts/{lea}/incoming",
        data={"csrf_token": console.token, "name": "No token", "consumer": consumer},
    )
    assert refused.status_code == 400
    assert "reload the page" in refused.text
    assert await credentials.list_credentials(control, lea) == []
