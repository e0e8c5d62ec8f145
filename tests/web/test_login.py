"""Sign-in, sessions and sign-out, over HTTP (the browser tests drive the same pages)."""

from __future__ import annotations

import re

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import users
from gateway.settings import Settings
from tests.conftest import client_from, unique_lea
from tests.factories import CONSUMER_ACTOR, add_district
from tests.secrets_seen import remember

PASSWORD = "correct horse battery staple"


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


async def sign_in(
    client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> httpx.Response:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"csrf_token": csrf(page.text), "email": email, "password": password}
    )


@pytest.fixture
async def operator_email(control: asyncpg.Connection) -> str:
    email = f"ops-{unique_lea().lower()}@dpi.example.gov"
    await users.add(
        control,
        email=email,
        role="operator",
        lea_code=None,
        password=PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    return email


async def test_sign_in_sets_a_hardened_session_cookie(
    client: httpx.AsyncClient, operator_email: str
) -> None:
    response = await sign_in(client, operator_email)
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/districts"
    cookie = response.headers["set-cookie"]
    assert "etg_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Path=/" in cookie
    remember(client.cookies.get("etg_session"))


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, operator_email: str
) -> None:
    wrong = await sign_in(client, operator_email, "not the password!!")
    unknown = await sign_in(client, "nobody@nowhere.example", "not the password!!")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong email or password." in wrong.text and "Wrong email or password." in unknown.text


async def test_login_form_without_csrf_is_refused(
    client: httpx.AsyncClient, operator_email: str
) -> None:
    await client.get("/login")
    response = await client.post(
        "/login", data={"csrf_token": "forged", "email": operator_email, "password": PASSWORD}
    )
    assert response.status_code == 403


async def test_sign_out_ends_every_session(
    gateway_app: Starlette, app_settings: Settings, operator_email: str
) -> None:
    async with (
        client_from(gateway_app, app_settings, "192.0.2.1") as laptop,
        client_from(gateway_app, app_settings, "192.0.2.2") as phone,
    ):
        assert (await sign_in(laptop, operator_email)).status_code == 303
        assert (await sign_in(phone, operator_email)).status_code == 303
        remember(laptop.cookies.get("etg_session"), phone.cookies.get("etg_session"))
        assert (await phone.get("/")).headers["location"] == "/admin/districts"
        # Any signed-in page carries the sign-out form with the session's CSRF token.
        page = await laptop.get("/admin/no-such-page")
        out = await laptop.post("/logout", data={"csrf_token": csrf(page.text)})
        assert out.status_code == 303 and out.headers["location"] == "/login"
        # The phone's session ended too: it is sent to sign in.
        assert (await phone.get("/")).headers["location"] == "/login"


async def test_signed_out_visitor_is_sent_to_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/districts")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/districts"


async def test_login_throttles_and_locks(
    gateway_app: Starlette, app_settings: Settings, operator_email: str
) -> None:
    async with (
        client_from(gateway_app, app_settings, "192.0.2.50") as guesser,
        client_from(gateway_app, app_settings, "192.0.2.51") as owner,
    ):
        for _ in range(app_settings.lockout_threshold):
            assert (await sign_in(guesser, operator_email, "wrong password!!")).status_code == 401
        locked = await sign_in(guesser, operator_email)
        assert locked.status_code == 401, "locked: even the right password is refused from there"
        assert (await sign_in(owner, operator_email)).status_code == 303


async def test_district_user_is_confined(
    control: asyncpg.Connection, owner_conn: asyncpg.Connection, client: httpx.AsyncClient
) -> None:
    mine = await add_district(owner_conn, unique_lea())
    email = f"registrar-{mine.lea_code.lower()}@district.example"
    await users.add(
        control,
        email=email,
        role="district",
        lea_code=mine.lea_code,
        password=PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    response = await sign_in(client, email)
    assert response.status_code == 303
    assert response.headers["location"] == f"/districts/{mine.lea_code}/setup"
    remember(client.cookies.get("etg_session"))
    # Any write is refused, whatever the URL.
    for path in ("/admin/districts", f"/districts/{mine.lea_code}/setup", "/anything"):
        assert (await client.post(path, data={"x": "1"})).status_code == 403
