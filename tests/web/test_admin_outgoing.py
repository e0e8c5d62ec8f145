"""The outgoing-connection editor: the ten fields validated with errors next to each, secrets
write-only (never shown, blank on edit keeps them) and encrypted at rest."""

from __future__ import annotations

import secrets
from uuid import UUID

import asyncpg
import httpx
import pytest

from gateway.control import vendors
from gateway.settings import Settings
from tests.conftest import unique_lea
from tests.factories import add_district
from tests.secrets_seen import remember
from tests.web.test_admin_pages import Console, error_of, sign_in_operator


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


@pytest.fixture
async def lea(owner_conn: asyncpg.Connection) -> str:
    return (await add_district(owner_conn, unique_lea())).lea_code


def valid(**changes: str) -> dict[str, str]:
    consumer_secret, password = f"cs-{secrets.token_hex(12)}", f"pw-{secrets.token_hex(12)}"
    remember(consumer_secret, password)
    fields = {
        "name": "Parchment",
        "auth_server": "https://auth.parchment.example",
        "auth_path": "/oauth/token",
        "upload_server": "https://upload.parchment.example",
        "upload_port": "443",
        "upload_path": "/api/v1/transcripts",
        "consumer_key": "nc-dpi",
        "consumer_secret": consumer_secret,
        "username": "ncdpi-920",
        "password": password,
        "grant_type": "password",
    }
    return fields | changes


async def test_bad_input_shows_each_error_next_to_its_field_and_saves_nothing(
    console: Console, control: asyncpg.Connection, lea: str
) -> None:
    typed = valid(
        auth_server="not a url",
        upload_server="ftp://files.example",
        upload_port="0",
        username="u" * 101,
        auth_path="",
        consumer_key="",
    )
    response = await console.post(f"/admin/districts/{lea}/outgoing", **typed)
    assert response.status_code == 422
    assert response.headers["cache-control"] == "no-store"
    assert error_of(response.text, "auth_server").startswith("A URL with scheme and host")
    assert error_of(response.text, "upload_server").startswith("A URL with scheme and host")
    assert error_of(response.text, "upload_port").startswith(
        "A port number from 1 to 65535, e.g. 443"
    )
    assert error_of(response.text, "username") == "At most 100 characters"
    assert error_of(response.text, "auth_path") == "Required"
    assert error_of(response.text, "consumer_key") == "Required"
    assert 'role="alert"' in response.text and 'href="#f-upload_port"' in response.text
    # What was typed is kept, except the secrets, which never go back to the browser.
    assert 'value="not a url"' in response.text and 'value="0"' in response.text
    assert typed["consumer_secret"] not in response.text and typed["password"] not in response.text
    too_big = await console.post(f"/admin/districts/{lea}/outgoing", **valid(upload_port="70000"))
    assert error_of(too_big.text, "upload_port").startswith(
        "A port number from 1 to 65535, e.g. 443"
    )
    assert await vendors.list_connections(control, lea) == []


async def test_every_field_is_required_on_create(
    console: Console, control: asyncpg.Connection, lea: str
) -> None:
    response = await console.post(f"/admin/districts/{lea}/outgoing")
    assert response.status_code == 422
    for name in ("name", "auth_server", "auth_path", "upload_server", "upload_path"):
        assert error_of(response.text, name) == "Required"
    for name in ("consumer_key", "consumer_secret", "username", "password"):
        assert error_of(response.text, name) == "Required"
    assert error_of(response.text, "upload_port").startswith(
        "A port number from 1 to 65535, e.g. 443"
    )
    assert error_of(response.text, "grant_type")
    assert await vendors.list_connections(control, lea) == []


async def test_create_edit_with_blank_secrets_keeps_them_and_delete(
    console: Console,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    app_settings: Settings,
    lea: str,
) -> None:
    typed = valid()
    created = await console.post(f"/admin/districts/{lea}/outgoing", **typed)
    assert created.status_code == 303
    assert created.headers["location"] == f"/admin/districts/{lea}?notice=outgoing-added"
    [connection] = await vendors.list_connections(control, lea)
    connection_id: UUID = connection["connection_id"]

    # At rest the password is sealed: its bytes are nowhere in the raw row.
    row = await owner_conn.fetchrow(
        "SELECT * FROM outgoing_connections WHERE connection_id = $1", connection_id
    )
    assert row is not None
    assert typed["password"].encode() not in row["password_enc"]
    assert typed["consumer_secret"].encode() not in row["consumer_secret_enc"]
    assert typed["password"] not in repr(dict(row))

    district_page = (await console.get(created.headers["location"])).text
    assert "Parchment" in district_page and "https://upload.parchment.example" in district_page
    edit_path = f"/admin/districts/{lea}/outgoing/{connection_id}"
    assert f'href="{edit_path}"' in district_page
    edit = await console.get(edit_path)
    assert edit.status_code == 200
    assert 'value="ncdpi-920"' in edit.text and "Leave blank to keep the current one." in edit.text
    for page in (district_page, edit.text):
        assert typed["password"] not in page and typed["consumer_secret"] not in page
    assert 'name="password" type="password" autocomplete="new-password"' in edit.text

    # Save with the secret fields left blank: they stay as they were.
    changed = valid(username="ncdpi-920-b", upload_port="8443", consumer_secret="", password="")
    saved = await console.post(edit_path, **changed)
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("?notice=outgoing-updated")
    kept = await vendors.secrets_for_use(control, app_settings.master_keys, connection_id)
    assert (kept.consumer_secret, kept.password) == (typed["consumer_secret"], typed["password"])
    assert (await vendors.get(control, connection_id))["username"] == "ncdpi-920-b"

    # A bad edit shows errors and changes nothing.
    bad = await console.post(edit_path, **valid(upload_port="70000", password=""))
    assert bad.status_code == 422 and error_of(bad.text, "upload_port")
    assert (await vendors.get(control, connection_id))["upload_port"] == 8443

    # Delete asks first, then removes.
    delete_path = f"{edit_path}/delete"
    confirm = await console.get(delete_path)
    assert confirm.status_code == 200 and "Delete connection" in confirm.text
    assert len(await vendors.list_connections(control, lea)) == 1
    gone = await console.post(delete_path)
    assert gone.headers["location"].endswith("?notice=outgoing-removed")
    assert await vendors.list_connections(control, lea) == []
    assert (await console.get(edit_path)).status_code == 404


async def test_several_connections_per_district_and_names_unique(
    console: Console, control: asyncpg.Connection, lea: str
) -> None:
    path = f"/admin/districts/{lea}/outgoing"
    assert (await console.post(path, **valid(name="Parchment"))).status_code == 303
    assert (await console.post(path, **valid(name="Clearinghouse"))).status_code == 303
    same = await console.post(path, **valid(name="Parchment"))
    assert same.status_code == 422
    assert error_of(same.text, "name") == "This district already has a connection of that name"
    names = [c["name"] for c in await vendors.list_connections(control, lea)]
    assert names == ["Clearinghouse", "Parchment"]


async def test_a_connection_is_reached_only_through_its_own_district(
    console: Console, control: asyncpg.Connection, owner_conn: asyncpg.Connection, lea: str
) -> None:
    await console.post(f"/admin/districts/{lea}/outgoing", **valid())
    [connection] = await vendors.list_connections(control, lea)
    other = (await add_district(owner_conn, unique_lea())).lea_code
    wrong = f"/admin/districts/{other}/outgoing/{connection['connection_id']}"
    assert (await console.get(wrong)).status_code == 404
    assert (await console.post(wrong, **valid())).status_code == 404
    assert (await console.post(f"{wrong}/delete")).status_code == 404
    assert (await console.get(f"/admin/districts/{lea}/outgoing/not-a-uuid")).status_code == 404
    assert len(await vendors.list_connections(control, lea)) == 1


async def test_the_vendor_documentation_values_are_saved_as_typed(
    console: Console, control: asyncpg.Connection, lea: str
) -> None:
    typed = valid(
        upload_server="http://transcripts.vendor.example",
        upload_port="80",
        upload_path="send-library-api/v1/pesc/highschool/transcript/1/3/0",
    )
    created = await console.post(f"/admin/districts/{lea}/outgoing", **typed)
    assert created.status_code == 303, error_of(created.text, "upload_path")
    [saved] = await vendors.list_connections(control, lea)
    assert saved["upload_path"] == "/send-library-api/v1/pesc/highschool/transcript/1/3/0"
    assert saved["upload_url"] == (
        "http://transcripts.vendor.example:80/send-library-api/v1/pesc/highschool/transcript/1/3/0"
    )


async def test_each_field_error_suggests_an_example_of_that_field(
    console: Console, control: asyncpg.Connection, lea: str
) -> None:
    typed = valid(
        auth_server="auth.vendor.example",
        upload_server="upload.vendor.example/with/path",
        auth_path="/has space",
        upload_path="/has space",
    )
    response = await console.post(f"/admin/districts/{lea}/outgoing", **typed)
    assert response.status_code == 422
    assert "https://auth.vendor.example" in error_of(response.text, "auth_server")
    assert "https://upload.vendor.example" in error_of(response.text, "upload_server")
    assert "auth" not in error_of(response.text, "upload_server")
    assert "/oauth/token" in error_of(response.text, "auth_path")
    upload_path_error = error_of(response.text, "upload_path")
    assert "/oauth/token" not in upload_path_error and "/v1/transcripts" in upload_path_error
    assert await vendors.list_connections(control, lea) == []
