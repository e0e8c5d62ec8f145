"""/admin/api/v1/users: add (with a one-time set-password link), list, read, invite, disable."""

from __future__ import annotations

import secrets

import asyncpg
import httpx

from gateway.control import users
from tests.admin.conftest import API, Operator, Setup, remember_shared


def new_email() -> str:
    return f"registrar-{secrets.token_hex(4)}@Example.org"


async def test_add_a_district_user_with_an_invite_link(
    client: httpx.AsyncClient, operator: Operator, setup: Setup, control: asyncpg.Connection
) -> None:
    email = new_email()
    body = {"email": email, "role": "district", "district": setup.lea}
    response = await client.post(f"{API}/users", json=body, headers=operator.headers)
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    remember_shared(created)
    assert created["email"] == email.lower()
    assert created["district"] == setup.lea
    assert created["has_password"] is False
    prefix = "http://127.0.0.1:8000/invite/"
    assert created["invite_url"].startswith(prefix)
    token = created["invite_url"].removeprefix(prefix)
    assert await users.invite_email(control, token) == email.lower(), "the link works"

    listed = await client.get(f"{API}/users", headers=operator.headers)
    mine = [u for u in listed.json()["items"] if u["email"] == email.lower()]
    assert mine == [{k: v for k, v in created.items() if k != "invite_url"}]
    assert token not in listed.text
    one = await client.get(f"{API}/users/{email.lower()}", headers=operator.headers)
    assert one.json() == mine[0]


async def test_add_an_operator(client: httpx.AsyncClient, operator: Operator) -> None:
    body = {"email": new_email(), "role": "operator"}
    response = await client.post(f"{API}/users", json=body, headers=operator.headers)
    assert response.status_code == 201
    remember_shared(response.json())
    assert response.json()["district"] is None


async def test_invalid_users_are_422(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    cases = [
        ({"email": new_email(), "role": "operator", "district": setup.lea}, {"district"}),
        ({"email": new_email(), "role": "district"}, {"district"}),
        ({"email": "not an email", "role": "operator"}, {"email"}),
        ({"email": new_email(), "role": "admin"}, {"role"}),
        ({"email": new_email(), "role": "operator", "password": "hunter2hunter2"}, {"password"}),
        ({}, {"email", "role"}),
    ]
    for body, fields in cases:
        response = await client.post(f"{API}/users", json=body, headers=operator.headers)
        assert response.status_code == 422, body
        assert set(response.json()["errors"]) == fields, body


async def test_duplicates_and_unknown_districts(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    email = new_email()
    first = await client.post(
        f"{API}/users", json={"email": email, "role": "operator"}, headers=operator.headers
    )
    remember_shared(first.json())
    again = await client.post(
        f"{API}/users", json={"email": email.upper(), "role": "operator"}, headers=operator.headers
    )
    assert again.status_code == 409, "emails are compared without case"
    nowhere = await client.post(
        f"{API}/users",
        json={"email": new_email(), "role": "district", "district": "ZZZ999"},
        headers=operator.headers,
    )
    assert nowhere.status_code == 404


async def test_disable_and_invite_again(
    client: httpx.AsyncClient, operator: Operator, setup: Setup
) -> None:
    email = new_email().lower()
    added = await client.post(
        f"{API}/users",
        json={"email": email, "role": "district", "district": setup.lea},
        headers=operator.headers,
    )
    remember_shared(added.json())
    invited = await client.post(f"{API}/users/{email}/invite", headers=operator.headers)
    assert invited.status_code == 200
    assert invited.headers["cache-control"] == "no-store"
    remember_shared(invited.json())
    assert invited.json()["invite_url"] != added.json()["invite_url"]

    disabled = await client.post(f"{API}/users/{email}/disable", headers=operator.headers)
    assert disabled.status_code == 200
    assert disabled.json()["status"] == "disabled"


async def test_unknown_users_are_404(client: httpx.AsyncClient, operator: Operator) -> None:
    for method, url in (
        ("GET", f"{API}/users/nobody@example.org"),
        ("POST", f"{API}/users/nobody@example.org/disable"),
        ("POST", f"{API}/users/nobody@example.org/invite"),
    ):
        response = await client.request(method, url, headers=operator.headers)
        assert response.status_code == 404, url
