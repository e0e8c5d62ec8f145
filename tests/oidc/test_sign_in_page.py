"""The sign-in page: the provider's button first, local sign-in below it, or not at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings
from tests.conftest import PgDatabase, client_from
from tests.oidc.world import PROVIDER_NAME, OidcWorld


async def app_with(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(settings)
    async with app.router.lifespan_context(app), client_from(app, settings, "192.0.2.8") as client:
        yield client


@pytest.fixture
async def local_off(
    oidc_world: OidcWorld, database: PgDatabase, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    settings = replace(oidc_world.a.settings, home=tmp_path, local_login=False)
    async for client in app_with(settings):
        yield client


async def test_local_login_off_removes_the_form_and_refuses_passwords(
    local_off: httpx.AsyncClient,
) -> None:
    page = await local_off.get("/login")
    assert page.status_code == 200
    assert f"Sign in with {PROVIDER_NAME}" in page.text
    assert 'name="password"' not in page.text
    posted = await local_off.post(
        "/login",
        data={"email": "breakglass@dpi.example.gov", "password": "anything at all"},
        headers={"Origin": "http://testserver"},
    )
    assert posted.status_code == 404
    assert "switched off" in posted.text


async def test_without_a_provider_the_page_is_the_local_form(
    database: PgDatabase, tmp_path: Path
) -> None:
    async for client in app_with(database.settings(tmp_path)):
        page = await client.get("/login")
        assert 'name="password"' in page.text
        assert "Sign in with" not in page.text
        assert (await client.get("/login/oidc")).status_code == 404


async def test_the_button_carries_where_the_person_was_going(
    local_off: httpx.AsyncClient,
) -> None:
    page = await local_off.get("/login", params={"next": "/districts/920/setup"})
    assert 'href="/login/oidc?next=/districts/920/setup"' in page.text


async def test_an_unreachable_provider_is_a_clear_page_not_a_crash(
    oidc_world: OidcWorld, tmp_path: Path
) -> None:
    from tests.outgoing.fake_vendor import free_port

    config = oidc_world.a.settings.oidc
    assert config is not None
    settings = replace(
        oidc_world.a.settings,
        home=tmp_path,
        oidc=replace(config, issuer=f"http://127.0.0.1:{free_port()}"),
    )
    async for client in app_with(settings):
        answer = await client.get("/login/oidc")
        assert answer.status_code == 502
        assert "cannot be reached" in answer.text


async def test_a_providers_account_has_no_password_to_set(
    oidc_world: OidcWorld, gateway_app: Starlette
) -> None:
    from gateway.control import users
    from gateway.errors import Conflict
    from tests.factories import CONSUMER_ACTOR
    from tests.oidc.world import sign_in

    async with httpx.AsyncClient(timeout=30.0) as browser:
        await sign_in(browser, oidc_world.a, oidc_world.operator)
    email = oidc_world.email(oidc_world.operator)
    async with gateway_app.state.services.stores.control.acquire() as conn:
        with pytest.raises(Conflict, match="identity provider"):
            await users.set_password(conn, email, "a long enough passphrase", CONSUMER_ACTOR)
        with pytest.raises(Conflict, match="identity provider"):
            await users.create_invite(conn, email, CONSUMER_ACTOR)
