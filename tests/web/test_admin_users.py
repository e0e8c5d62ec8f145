"""/admin/users: the console adds users through the invite flow only (a one-time set-password
link shown once), issues fresh links, and disables accounts after a confirmation."""

from __future__ import annotations

import asyncio
import logging
import re
import threading

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.control import users
from gateway.settings import Settings
from tests.conftest import client_from, unique_lea
from tests.factories import CONSUMER_ACTOR, add_district, connections_held_while_hashing
from tests.secrets_seen import remember
from tests.web.test_admin_pages import Console, error_of, sign_in_operator
from tests.web.test_login import csrf, sign_in

NEW_PASSWORD = "a long and fresh passphrase"


@pytest.fixture(autouse=True)
def quiet_http_client(caplog: pytest.LogCaptureFixture) -> None:
    """The test's own HTTP client logs each URL it requests, and an invite URL holds its
    token: keep that line out of the run's log, which is checked for secrets at the end."""
    caplog.set_level(logging.WARNING, logger="httpx")


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


def invite_link(html: str) -> str:
    match = re.search(
        r'<code id="invite-link">(http://127\.0\.0\.1:8000(/invite/[^<]+))</code>', html
    )
    assert match, "no invite link on the page"
    remember(match.group(2).rsplit("/", 1)[1])
    return match.group(2)


async def test_a_new_user_gets_a_one_time_link(
    console: Console, owner_conn: asyncpg.Connection
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    email = f"Registrar-{lea.lower()}@district.example"
    added = await console.post("/admin/users", email=email, role="district", district=lea.lower())
    assert added.status_code == 200
    assert added.headers["cache-control"] == "no-store"
    assert "shown this once" in added.text and 'data-copy="invite-link"' in added.text
    link = invite_link(added.text)
    listing = (await console.get("/admin/users")).text
    assert email.lower() in listing and "Not set yet" in listing
    assert link not in listing, "the link is shown once only"
    audited = await owner_conn.fetch(
        "SELECT action FROM audit_log WHERE target = $1 AND actor = $2 ORDER BY audit_id",
        email.lower(),
        console.email,
    )
    assert [r["action"] for r in audited] == ["user.add", "user.invite"]


# invite.html reads `errors.password` from an empty dict, which StrictUndefined refuses: GET
# /invite/<token> answers 500 until login's template uses errors.get(...). Not strict, so this
# passes by itself once that is fixed (then drop the marker).
async def test_the_link_sets_a_password_once(
    console: Console,
    owner_conn: asyncpg.Connection,
    gateway_app: Starlette,
    app_settings: Settings,
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    email = f"registrar-{lea.lower()}@district.example"
    added = await console.post("/admin/users", email=email, role="district", district=lea)
    link = invite_link(added.text)
    async with client_from(gateway_app, app_settings, "198.51.100.20") as newcomer:
        form = await newcomer.get(link)
        assert form.status_code == 200 and email in form.text
        data = {
            "csrf_token": csrf(form.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        }
        assert (await newcomer.post(link, data=data)).status_code == 303
        signed_in = await sign_in(newcomer, email, NEW_PASSWORD)
        assert signed_in.headers["location"] == f"/districts/{lea}/setup"
        remember(newcomer.cookies.get("etg_session"))
    assert (await console.get(link)).status_code == 404, "the link works once"


async def test_adding_a_user_shows_the_errors(
    console: Console, owner_conn: asyncpg.Connection
) -> None:
    bad = await console.post("/admin/users", email="not-an-email", role="district", district="")
    assert bad.status_code == 422
    assert error_of(bad.text, "email") == "An email address"
    assert error_of(bad.text, "district") == "A district user needs a district"
    unknown = await console.post(
        "/admin/users", email="x@district.example", role="district", district="ZZZZZZZZZZ"
    )
    assert error_of(unknown.text, "district") == "No such district"
    operator_in_district = await console.post(
        "/admin/users", email="y@dpi.example.gov", role="operator", district="920"
    )
    assert error_of(operator_in_district.text, "district") == "Operators belong to no district"
    duplicate = await console.post("/admin/users", email=console.email, role="operator")
    assert duplicate.status_code == 409
    assert error_of(duplicate.text, "email") == "A user with this email exists"


async def test_a_fresh_link_replaces_a_lost_one(
    console: Console, control: asyncpg.Connection
) -> None:
    email = f"ops-{unique_lea().lower()}@dpi.example.gov"
    first = invite_link((await console.post("/admin/users", email=email, role="operator")).text)
    again = await console.post("/admin/users/invite", email=email)
    assert again.status_code == 200
    second = invite_link(again.text)
    assert second != first
    token = second.rsplit("/", 1)[1]
    assert await users.invite_email(control, token) == email


async def test_disable_asks_then_ends_the_users_sessions(
    console: Console,
    control: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    gateway_app: Starlette,
    app_settings: Settings,
) -> None:
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    email = f"staff-{lea.lower()}@district.example"
    await users.add(
        control,
        email=email,
        role="district",
        lea_code=lea,
        password=NEW_PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    async with client_from(gateway_app, app_settings, "198.51.100.21") as staff:
        assert (await sign_in(staff, email, NEW_PASSWORD)).status_code == 303
        remember(staff.cookies.get("etg_session"))
        confirm = await console.get("/admin/users/disable", email=email)
        assert confirm.status_code == 200 and "signed out everywhere" in confirm.text
        assert f'value="{email}"' in confirm.text
        disabled = await console.post("/admin/users/disable", email=email)
        assert disabled.headers["location"] == "/admin/users?notice=user-disabled"
        assert (await users.get(control, email))["status"] == "disabled"
        assert (await staff.get(f"/districts/{lea}/setup")).headers["location"].startswith("/login")
    enabled = await console.post("/admin/users/enable", email=email)
    assert enabled.headers["location"] == "/admin/users?notice=user-active"
    assert (await users.get(control, email))["status"] == "active"


async def test_an_operator_cannot_disable_themselves(
    console: Console, control: asyncpg.Connection
) -> None:
    assert (await console.get("/admin/users/disable", email=console.email)).status_code == 400
    assert (await console.post("/admin/users/disable", email=console.email)).status_code == 400
    assert (await users.get(control, console.email))["status"] == "active"


async def _invited(
    owner_conn: asyncpg.Connection, control: asyncpg.Connection, prefix: str
) -> tuple[str, str]:
    """(email, invite token) of a new district user of a new district."""
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    email = f"{prefix}-{lea.lower()}@district.example"
    await users.add(
        control, email=email, role="district", lea_code=lea, password=None, actor=CONSUMER_ACTOR
    )
    token = await users.create_invite(control, email, CONSUMER_ACTOR)
    remember(token)
    return email, token


async def test_the_invite_hashes_in_the_bounded_argon2_pool_not_on_the_loop(
    owner_conn: asyncpg.Connection,
    control: asyncpg.Connection,
    gateway_app: Starlette,
    app_settings: Settings,
) -> None:
    """The password of an accepted invite is hashed by the same bounded pool as the token
    endpoint's verifications: while that pool is full, the page answers 503 (and nothing is
    used up); once it drains, the same link works."""
    email, token = await _invited(owner_conn, control, "pooled")
    link = f"/invite/{token}"
    pool = gateway_app.state.services.slow_hashes
    gate = threading.Event()
    limit = app_settings.slow_hash_concurrency + app_settings.slow_hash_queue
    async with client_from(gateway_app, app_settings, "198.51.100.21") as newcomer:
        form = await newcomer.get(link)
        data = {
            "csrf_token": csrf(form.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        }
        held = [asyncio.create_task(pool.run(gate.wait)) for _ in range(limit)]
        try:
            async with asyncio.timeout(60):
                while pool.admitted < limit:
                    await asyncio.sleep(0.01)
            busy = await newcomer.post(link, data=data)
            assert busy.status_code == 503
            assert int(busy.headers["retry-after"]) >= 1
        finally:
            gate.set()
            await asyncio.gather(*held)
        assert await users.invite_email(control, token) == email, "nothing was used up"
        assert (await newcomer.post(link, data=data)).status_code == 303
    assert await users.invite_email(control, token) is None


async def test_the_invite_holds_no_control_connection_while_it_hashes(
    owner_conn: asyncpg.Connection,
    control: asyncpg.Connection,
    gateway_app: Starlette,
    app_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, token = await _invited(owner_conn, control, "unheld")
    services = gateway_app.state.services
    held = connections_held_while_hashing(services, monkeypatch)
    async with client_from(gateway_app, app_settings, "198.51.100.23") as newcomer:
        form = await newcomer.get(f"/invite/{token}")
        data = {
            "csrf_token": csrf(form.text),
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        }
        assert (await newcomer.post(f"/invite/{token}", data=data)).status_code == 303
    assert held == [0]
    assert await users.invite_email(control, token) is None
