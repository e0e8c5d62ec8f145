"""Staff sign in through a real OpenID provider (node's oidc-provider on loopback), end to end.

Each test walks the real redirect round trip (tests/oidc/world.py): the gateway's
/login/oidc, the provider's own login form, the gateway's callback, with an httpx client as the
browser. Two gateway instances on one database stand for two workers.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import asyncpg
import httpx
import pytest

from gateway.control import users
from tests.conftest import PgDatabase
from tests.factories import CONSUMER_ACTOR
from tests.oidc.world import (
    CLIENT_ID,
    PROVIDER_NAME,
    OidcWorld,
    ensure_break_glass,
    provider_logout,
    sign_in,
)
from tests.web.browser import LiveServer

AUDIT_WAIT = 30.0  # the audit buffer writes every 0.2 s; this only bounds a broken run


def browser() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=30.0, follow_redirects=False)


async def audit_rows(database: PgDatabase, query: str, *args: Any) -> list[asyncpg.Record]:
    """Rows of the audit log, waiting for the buffered writer to put them there."""
    deadline = asyncio.get_running_loop().time() + AUDIT_WAIT
    conn = await asyncpg.connect(database.owner_url)
    try:
        while True:
            rows: list[asyncpg.Record] = await conn.fetch(query, *args)
            if rows or asyncio.get_running_loop().time() > deadline:
                return rows
            await asyncio.sleep(0.1)
    finally:
        await conn.close()


async def account(database: PgDatabase, world: OidcWorld, login: str) -> asyncpg.Record | None:
    conn = await asyncpg.connect(database.owner_url)
    try:
        row: asyncpg.Record | None = await conn.fetchrow(
            "SELECT u.*, d.lea_code FROM web_users u LEFT JOIN districts d USING (district_id)"
            " WHERE oidc_issuer = $1 AND oidc_subject = $2",
            world.issuer,
            login,
        )
        return row
    finally:
        await conn.close()


async def signed_in_page(client: httpx.AsyncClient, server: LiveServer, path: str) -> int:
    return (await client.get(server.url(path))).status_code


async def test_operator_signs_in_and_reaches_the_console(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    world = oidc_world
    async with browser() as client:
        answer = await sign_in(client, world.a, world.operator)
        assert answer.status_code == 303
        assert answer.headers["location"] == "/admin/districts"
        console = await client.get(world.a.url("/admin/districts"))
        assert console.status_code == 200
        assert world.email(world.operator) in console.text
    row = await account(database, world, world.operator)
    assert row is not None
    assert (row["role"], row["district_id"], row["password_hash"]) == ("operator", None, None)
    assert row["email"] == world.email(world.operator)
    assert row["display_name"] == "Olive Operator"
    logged = await audit_rows(
        database,
        "SELECT actor_type, outcome, source_addr, detail FROM audit_log WHERE action = 'web.login'"
        " AND detail->>'subject' = $1",
        world.operator,
    )
    assert [(r["actor_type"], r["outcome"]) for r in logged] == [("operator", "success")]
    assert str(logged[0]["source_addr"]) == "127.0.0.1"
    assert '"issuer": "' + world.issuer in logged[0]["detail"]


async def test_district_user_sees_only_their_own_district(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    world = oidc_world
    async with browser() as client:
        answer = await sign_in(client, world.a, world.district_user)
        assert answer.headers["location"] == f"/districts/{world.lea}/setup"
        setup = await client.get(world.a.url(f"/districts/{world.lea}/setup"))
        assert setup.status_code == 200
        assert "Electronic Release Setup" in setup.text
        # Another district, and the console, do not exist for them, as for local accounts.
        assert await signed_in_page(client, world.a, f"/districts/{world.other_lea}/setup") == 404
        assert await signed_in_page(client, world.a, "/admin/districts") == 404
    row = await account(database, world, world.district_user)
    assert row is not None
    assert (row["role"], row["lea_code"]) == ("district", world.lea)


async def test_sign_in_goes_back_where_the_person_was_going(oidc_world: OidcWorld) -> None:
    world = oidc_world
    async with browser() as client:
        target = f"/districts/{world.lea}/disclosures"
        answer = await sign_in(client, world.a, world.district_user, next_path=target)
        assert answer.headers["location"] == target
    async with browser() as client:
        # Not somewhere else's, and never off site.
        answer = await sign_in(client, world.a, world.district_user, next_path="//evil.example/")
        assert answer.headers["location"] == f"/districts/{world.lea}/setup"


@pytest.mark.parametrize(
    ("who", "says", "reason"),
    [
        ("stranger", "not in any eTranscript group", "unmapped"),
        ("two_districts", "more than one district", "several_districts"),
        ("unknown_district", "does not serve", "unknown_district"),
    ],
)
async def test_a_user_whose_claims_map_to_no_role_is_refused(
    oidc_world: OidcWorld, database: PgDatabase, who: str, says: str, reason: str
) -> None:
    world = oidc_world
    login = getattr(world, who)
    async with browser() as client:
        answer = await sign_in(client, world.a, login)
        assert answer.status_code == 403
        assert says in answer.text
        assert "set-cookie" not in answer.headers or "etg_session" not in str(
            answer.headers.get_list("set-cookie")
        )
        assert await signed_in_page(client, world.a, "/admin/districts") == 303
    assert await account(database, world, login) is None
    logged = await audit_rows(
        database,
        "SELECT outcome, detail->>'reason' AS reason, detail->>'issuer' AS issuer FROM audit_log"
        " WHERE action = 'web.login' AND detail->>'subject' = $1",
        login,
    )
    assert [(r["outcome"], r["reason"], r["issuer"]) for r in logged] == [
        ("denied", reason, world.issuer)
    ]


async def test_each_sign_in_updates_the_account_from_the_claims(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    world = oidc_world
    async with browser() as client:
        await sign_in(client, world.a, world.other_district_user)
    owner = await asyncpg.connect(database.owner_url)
    try:
        # Someone changed the account here; the provider is the authority on who this is.
        await owner.execute(
            "UPDATE web_users SET display_name = 'Stale', email = 'stale@x.example',"
            " district_id = (SELECT district_id FROM districts WHERE lea_code = $3)"
            " WHERE oidc_issuer = $1 AND oidc_subject = $2",
            world.issuer,
            world.other_district_user,
            world.lea,
        )
    finally:
        await owner.close()
    async with browser() as client:
        answer = await sign_in(client, world.a, world.other_district_user)
        assert answer.headers["location"] == f"/districts/{world.other_lea}/setup"
    row = await account(database, world, world.other_district_user)
    assert row is not None
    assert (row["display_name"], row["email"], row["lea_code"]) == (
        "Otto Other",
        world.email(world.other_district_user),
        world.other_lea,
    )


async def test_a_disabled_account_stays_disabled_whatever_the_provider_says(
    oidc_world: OidcWorld, database: PgDatabase, gateway_app: Any
) -> None:
    world = oidc_world
    async with browser() as client:
        assert (await sign_in(client, world.a, world.to_disable)).status_code == 303
        assert await signed_in_page(client, world.a, f"/districts/{world.lea}/setup") == 200
        async with gateway_app.state.services.stores.control.acquire() as conn:
            await users.set_status(conn, world.email(world.to_disable), "disabled", CONSUMER_ACTOR)
        # Disabling ended the session ...
        assert await signed_in_page(client, world.a, f"/districts/{world.lea}/setup") == 303
    async with browser() as client:
        # ... and signing in again through the provider does not bring the account back.
        answer = await sign_in(client, world.a, world.to_disable)
        assert answer.status_code == 403
        assert "disabled" in answer.text
    row = await account(database, world, world.to_disable)
    assert row is not None and row["status"] == "disabled"


async def test_a_callback_from_another_browser_is_refused(oidc_world: OidcWorld) -> None:
    """RFC 6749 §10.12: the state is bound to the browser that started the sign-in, so a
    callback URL planted in someone else's browser signs nobody in (login CSRF)."""
    world = oidc_world
    async with browser() as victim, browser() as attacker:
        start = await attacker.get(world.a.url("/login/oidc"))
        page = await sign_in_stop_before_callback(attacker, start, world.district_user)
        planted = await victim.get(page)
        assert planted.status_code == 400
        assert "did not complete" in planted.text
        assert await signed_in_page(victim, world.a, f"/districts/{world.lea}/setup") == 303


async def sign_in_stop_before_callback(
    client: httpx.AsyncClient, start: httpx.Response, login: str
) -> str:
    """Walk to the provider's answer and return the callback URL, without visiting it."""
    from tests.oidc.world import _form_action, follow

    page = await follow(client, start, "/interaction/")
    submitted = await client.post(
        page.url.join(_form_action(page.text)),
        data={"prompt": "login", "login": login, "password": "x"},
    )
    response = submitted
    for _ in range(10):
        location = httpx.URL(response.url).join(response.headers["location"])
        if "/login/oidc/callback" in str(location):
            return str(location)
        response = await client.get(location)
    raise AssertionError("no callback")


async def test_a_callback_is_used_once(oidc_world: OidcWorld) -> None:
    world = oidc_world
    async with browser() as client:
        start = await client.get(world.a.url("/login/oidc"))
        callback = await sign_in_stop_before_callback(client, start, world.district_user)
        first = await client.get(callback)
        assert first.status_code == 303
        cookie = client.cookies.get("etg_session")
        client.cookies.delete("etg_session")
        # The flow cookie was deleted; put the state back, as a replaying attacker would.
        state = re.search(r"state=([^&]+)", callback)
        assert state and cookie
        client.cookies.set("etg_oidc_flow", f"{state.group(1)}.", path="/login/oidc")
        again = await client.get(callback)
        assert again.status_code == 400


async def test_the_sign_in_page_offers_the_provider_and_local_sign_in_below(
    oidc_world: OidcWorld, gateway_app: Any
) -> None:
    world = oidc_world
    async with gateway_app.state.services.stores.control.acquire() as conn:
        await ensure_break_glass(conn)
    async with browser() as client:
        page = (await client.get(world.a.url("/login"))).text
    assert f"Sign in with {PROVIDER_NAME}" in page
    assert page.index(f"Sign in with {PROVIDER_NAME}") < page.index('name="password"')


async def test_logout_ends_the_session_and_signs_out_at_the_provider(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    world = oidc_world
    async with browser() as client:
        await sign_in(client, world.a, world.operator)
        console = await client.get(world.a.url("/admin/districts"))
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', console.text)
        assert csrf
        out = await client.post(
            world.a.url("/logout"),
            data={"csrf_token": csrf.group(1)},
            headers={"Origin": world.a.base_url},
        )
        assert out.status_code == 303
        # RP-initiated logout: on to the provider's end_session_endpoint, which sends the
        # browser back to our sign-in page.
        location = httpx.URL(out.headers["location"])
        assert str(location).startswith(f"{world.issuer}/session/end")
        assert location.params["client_id"] == CLIENT_ID
        assert location.params["post_logout_redirect_uri"] == world.a.url("/login")
        assert await signed_in_page(client, world.a, "/admin/districts") == 303
        ended = await client.get(location)
        assert ended.status_code == 200 and "sign-out" in ended.text.lower()
    logged = await audit_rows(
        database,
        "SELECT detail->>'provider_logout' AS rp FROM audit_log WHERE action = 'web.logout'"
        " AND detail->>'subject' = $1",
        world.operator,
    )
    assert [r["rp"] for r in logged] == ["true"]


async def test_back_channel_logout_ends_the_session_on_another_worker(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    """Signed in on worker A; the provider's back-channel logout goes to worker B; the
    session on A is gone, because sessions are rows, not worker memory."""
    world = oidc_world
    async with browser() as client:
        await sign_in(client, world.a, world.district_user)
        setup = f"/districts/{world.lea}/setup"
        assert await signed_in_page(client, world.a, setup) == 200
        assert await signed_in_page(client, world.b, setup) == 200  # the same session on B
        before = len(await world.provider.events())
        await provider_logout(client, world)
        # The provider answers once its back-channel calls have returned.
        events = (await world.provider.events())[before:]
        assert [e["event"] for e in events] == ["backchannel.success"], events
        assert events[0]["sub"] == world.district_user and events[0]["sid"]
        assert await signed_in_page(client, world.a, setup) == 303
    logged = await audit_rows(
        database,
        "SELECT outcome, detail->>'sid' AS sid, (detail->>'sessions')::int AS n FROM audit_log"
        " WHERE action = 'web.backchannel_logout' AND detail->>'subject' = $1",
        world.district_user,
    )
    assert [(r["outcome"], r["sid"], r["n"]) for r in logged] == [("success", events[0]["sid"], 1)]


async def test_back_channel_logout_refuses_a_forged_token(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    world = oidc_world
    from tests.oidc.provider import new_key

    async with browser() as client:
        await sign_in(client, world.a, world.district_user)
        forged = world.provider.sign(
            {
                "iss": world.issuer,
                "aud": CLIENT_ID,
                "iat": int(__import__("time").time()),
                "jti": "forged-1",
                "sub": world.district_user,
                "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
            },
            key=new_key(world.provider.key.kid),  # the provider's kid, someone else's key
            typ="logout+jwt",
        )
        answer = await client.post(
            world.b.url("/login/oidc/backchannel-logout"), data={"logout_token": forged}
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_request"
        assert answer.headers["cache-control"] == "no-store"
        assert await signed_in_page(client, world.a, f"/districts/{world.lea}/setup") == 200


async def test_the_providers_key_rotation_is_followed(oidc_world: OidcWorld) -> None:
    """The provider signs with a new key (the old one leaves its JWKS); sign-in keeps
    working, because an unknown key id makes the gateway fetch the JWKS again."""
    world = oidc_world
    async with browser() as client:
        assert (await sign_in(client, world.a, world.operator)).status_code == 303
    old = world.provider.key.kid
    fresh = await world.provider.rotate()
    assert fresh.kid != old
    for server in (world.a, world.b):
        async with browser() as client:
            answer = await sign_in(client, server, world.operator)
            assert answer.status_code == 303, answer.text


async def test_private_key_jwt_client_authentication(
    oidc_world: OidcWorld, database: PgDatabase
) -> None:
    """A gateway registered with a public key (RFC 7523 §2.2) instead of a shared secret: the
    provider accepts its signed client assertion at the token endpoint."""
    world = oidc_world
    async with browser() as client:
        answer = await sign_in(client, world.c, world.district_user)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == f"/districts/{world.lea}/setup"
        assert await signed_in_page(client, world.c, answer.headers["location"]) == 200


async def test_the_console_lists_provider_accounts_without_a_password_link(
    oidc_world: OidcWorld,
) -> None:
    world = oidc_world
    async with browser() as client:
        await sign_in(client, world.a, world.operator)
        page = (await client.get(world.a.url("/admin/users"))).text
    row = next(r for r in page.split("<tr>") if f"<td>{world.email(world.operator)}</td>" in r)
    assert "State sign-in" in row
    assert "New link" not in row
