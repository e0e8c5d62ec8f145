"""/admin/api/v1/districts/{lea}/outgoing and /outgoing/{id}: vendor connections, whose
consumer secret and password go in and never come out."""

from __future__ import annotations

import secrets
import uuid
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import pytest

from gateway.control import vendors
from gateway.control.vendors import MASK
from tests.admin.conftest import API, Operator, Setup
from tests.conftest import SESSION_MASTER_KEYS
from tests.secrets_seen import remember


def connection(**changes: Any) -> dict[str, Any]:
    body = {
        "name": "Parchment",
        "auth_server": "https://auth.vendor.example",
        "auth_path": "/oauth/token",
        "upload_server": "https://upload.vendor.example",
        "upload_port": 443,
        "upload_path": "/api/v1/transcripts",
        "consumer_key": "gateway-nc",
        "consumer_secret": f"vendor-secret-{secrets.token_hex(8)}",
        "username": "ncdpi-920",
        "password": f"vendor-password-{secrets.token_hex(8)}",
        **changes,
    }
    remember(body.get("consumer_secret"), body.get("password"))
    return body


@pytest.fixture
async def added(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what was sent, what came back) for one new connection."""
    sent = connection()
    response = await client.post(
        f"{API}/districts/{setup.lea}/outgoing", json=sent, headers=operator.headers
    )
    assert response.status_code == 201, response.text
    return sent, response.json()


async def stored_secrets(control: asyncpg.Connection, connection_id: str) -> vendors.VendorSecrets:
    return await vendors.secrets_for_use(control, SESSION_MASTER_KEYS, UUID(connection_id))


async def test_add_shows_the_connection_with_its_secrets_masked(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    control: asyncpg.Connection,
    added: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    sent, shown = added
    assert shown["district"] == setup.lea
    assert shown["consumer_secret"] == MASK
    assert shown["password"] == MASK
    assert shown["grant_type"] == "password"
    assert shown["auth_url"] == "https://auth.vendor.example/oauth/token"
    assert shown["upload_url"] == "https://upload.vendor.example:443/api/v1/transcripts"
    for field in ("name", "auth_server", "auth_path", "upload_port", "consumer_key", "username"):
        assert shown[field] == sent[field]
    # Encrypted at rest: the raw row does not hold either secret in clear.
    row = await control.fetchrow(
        "SELECT consumer_secret_enc, password_enc FROM outgoing_connections"
        " WHERE connection_id = $1",
        UUID(shown["connection_id"]),
    )
    assert sent["password"].encode() not in row["password_enc"]
    assert sent["consumer_secret"].encode() not in row["consumer_secret_enc"]
    assert (await stored_secrets(control, shown["connection_id"])).password == sent["password"]

    listed = await client.get(f"{API}/districts/{setup.lea}/outgoing", headers=operator.headers)
    assert listed.json() == {"items": [shown]}
    one = await client.get(f"{API}/outgoing/{shown['connection_id']}", headers=operator.headers)
    assert one.json() == shown
    for response in (listed, one):
        assert sent["password"] not in response.text
        assert sent["consumer_secret"] not in response.text


async def test_put_without_secrets_keeps_them(
    client: httpx.AsyncClient,
    operator: Operator,
    control: asyncpg.Connection,
    added: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    sent, shown = added
    url = f"{API}/outgoing/{shown['connection_id']}"
    change = {k: v for k, v in sent.items() if k not in ("consumer_secret", "password")}
    change["upload_path"] = "/v2/transcripts"
    response = await client.put(url, json=change, headers=operator.headers)
    assert response.status_code == 200, response.text
    assert response.json()["upload_path"] == "/v2/transcripts"
    kept = await stored_secrets(control, shown["connection_id"])
    assert (kept.consumer_secret, kept.password) == (sent["consumer_secret"], sent["password"])

    blank = await client.put(
        url, json={**change, "consumer_secret": "", "password": None}, headers=operator.headers
    )
    assert blank.status_code == 200
    assert (await stored_secrets(control, shown["connection_id"])).password == sent["password"]

    new_password = f"rotated-{secrets.token_hex(8)}"
    remember(new_password)
    changed = await client.put(
        url, json={**change, "password": new_password}, headers=operator.headers
    )
    assert changed.status_code == 200
    now = await stored_secrets(control, shown["connection_id"])
    assert (now.consumer_secret, now.password) == (sent["consumer_secret"], new_password)


async def test_invalid_connections_are_422_with_every_field_named(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    url = f"{API}/districts/{setup.lea}/outgoing"
    shape = connection(upload_port="443", grant_type="implicit", color="blue")
    del shape["password"]
    response = await client.post(url, json=shape, headers=operator.headers)
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "color": "Unknown field",
        "upload_port": "Must be an integer",
        "grant_type": "One of: password, client_credentials",
        "password": "Required",
    }
    meaning = connection(
        auth_server="auth.vendor.example",
        upload_server="https://upload.vendor.example/with/path",
        auth_path="/oauth token",
        upload_port=0,
        username="u" * 101,
    )
    response = await client.post(url, json=meaning, headers=operator.headers)
    assert response.status_code == 422
    # The document's patterns say what a server and a path look like: in the same answer.
    errors = response.json()["errors"]
    assert set(errors) == {"upload_port", "username", "auth_server", "upload_server", "auth_path"}
    assert errors["auth_server"] == "A URL with scheme and host, e.g. https://auth.vendor.example"
    assert errors["auth_path"] == "A path, e.g. /oauth/token"
    # What no pattern says (a port out of range) is the repository's to refuse.
    meaning.update(
        auth_server="https://auth.vendor.example:99999",
        upload_server="https://upload.vendor.example",
        auth_path="/oauth/token",
        upload_port=443,
        username="ncdpi",
    )
    response = await client.post(url, json=meaning, headers=operator.headers)
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"auth_server"}
    assert "port" in response.json()["errors"]["auth_server"]


async def test_an_empty_required_secret_is_refused_as_the_document_says(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    """schemathesis found `consumer_secret` documented as required with `default: ""`: now
    the document says minLength 1 (and no default), and the server holds to it."""
    document = (await client.get("/openapi.json")).json()
    schema = document["paths"]["/admin/api/v1/districts/{lea}/outgoing"]["post"]["requestBody"]
    properties = schema["content"]["application/json"]["schema"]["properties"]
    for name in ("consumer_secret", "password", "name", "consumer_key"):
        assert properties[name]["minLength"] == 1, name
        assert "default" not in properties[name], name
    url = f"{API}/districts/{setup.lea}/outgoing"
    response = await client.post(
        url, json=connection(consumer_secret="", name=""), headers=operator.headers
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"] == {
        "consumer_secret": "Must not be empty",
        "name": "Must not be empty",
    }


async def test_a_duplicate_name_in_the_district_is_409(
    client: httpx.AsyncClient,
    operator: Operator,
    setup: Setup,
    added: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    url = f"{API}/districts/{setup.lea}/outgoing"
    again = await client.post(url, json=connection(), headers=operator.headers)
    assert again.status_code == 409
    other = await client.post(url, json=connection(name="NSC"), headers=operator.headers)
    assert other.status_code == 201
    renamed = connection(name="Parchment")
    response = await client.put(
        f"{API}/outgoing/{other.json()['connection_id']}", json=renamed, headers=operator.headers
    )
    assert response.status_code == 409
    # Keeping its own name is not a clash.
    same = await client.put(
        f"{API}/outgoing/{added[1]['connection_id']}", json=connection(), headers=operator.headers
    )
    assert same.status_code == 200


async def test_delete_removes_the_connection(
    client: httpx.AsyncClient,
    operator: Operator,
    added: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    url = f"{API}/outgoing/{added[1]['connection_id']}"
    response = await client.delete(url, headers=operator.headers)
    assert response.status_code == 204
    assert response.content == b""
    assert (await client.get(url, headers=operator.headers)).status_code == 404
    assert (await client.delete(url, headers=operator.headers)).status_code == 404


async def test_unknown_districts_and_connections_are_404(
    client: httpx.AsyncClient, operator: Operator
) -> None:
    assert (
        await client.get(f"{API}/districts/ZZZ999/outgoing", headers=operator.headers)
    ).status_code == 404
    assert (
        await client.post(
            f"{API}/districts/ZZZ999/outgoing", json=connection(), headers=operator.headers
        )
    ).status_code == 404
    for ident in (str(uuid.uuid4()), "not-a-uuid"):
        url = f"{API}/outgoing/{ident}"
        assert (await client.get(url, headers=operator.headers)).status_code == 404
        assert (
            await client.put(url, json=connection(), headers=operator.headers)
        ).status_code == 404
        assert (await client.delete(url, headers=operator.headers)).status_code == 404


async def test_the_vendor_documentation_values_are_accepted_as_typed(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    sent = connection(
        name="Vendor as documented",
        upload_server="http://transcripts.vendor.example",
        upload_port=80,
        upload_path="send-library-api/v1/pesc/highschool/transcript/1/3/0",
    )
    response = await client.post(
        f"{API}/districts/{setup.lea}/outgoing", json=sent, headers=operator.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["upload_path"] == "/send-library-api/v1/pesc/highschool/transcript/1/3/0"
    assert body["upload_port"] == 80
    assert body["upload_url"].startswith("http://transcripts.vendor.example:80/send-library-api/")


async def test_an_upload_path_error_suggests_an_upload_path(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    response = await client.post(
        f"{API}/districts/{setup.lea}/outgoing",
        json=connection(upload_path="/has space", upload_server="upload.example"),
        headers=operator.headers,
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert "/oauth/token" not in errors["upload_path"]
    assert "/v1/transcripts" in errors["upload_path"]
    assert "https://upload.vendor.example" in errors["upload_server"]
