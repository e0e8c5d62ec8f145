"""A provider that keeps scope claims out of the ID token (OpenID Connect Core §5.4: the
email at the UserInfo endpoint) still signs staff in: the gateway asks UserInfo, whose `sub`
must be the ID token's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from starlette.datastructures import Secret

from gateway.settings import OidcSettings
from tests.conftest import PgDatabase
from tests.oidc.provider import OpenIdProvider
from tests.oidc.world import CLIENT_ID, OidcWorld, accounts, client_metadata, sign_in
from tests.web.browser import LiveServer, free_socket, start_server


@dataclass
class Conforming:
    provider: OpenIdProvider
    server: LiveServer
    operator: str


@pytest.fixture(scope="module")
async def conforming(
    oidc_world: OidcWorld, database: PgDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Conforming]:
    workdir = tmp_path_factory.mktemp("oidc-userinfo")
    sock = free_socket()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    people = accounts(oidc_world.lea, oidc_world.other_lea)
    provider = OpenIdProvider.start(
        workdir,
        clients=[client_metadata([base], base, oidc_world.client_secret)],
        accounts=people,
        userinfo_only_claims=True,
    )
    config = OidcSettings(
        issuer=provider.issuer, client_id=CLIENT_ID, client_secret=Secret(oidc_world.client_secret)
    )
    server = start_server(
        lambda port: database.settings(workdir, base_url=f"http://127.0.0.1:{port}", oidc=config),
        sock,
    )
    try:
        await server.wait_ready()
        yield Conforming(provider, server, next(iter(people)))
    finally:
        await server.stop()
        provider.stop()


async def test_groups_from_userinfo_sign_an_operator_in(conforming: Conforming) -> None:
    async with httpx.AsyncClient(timeout=30.0) as client:
        answer = await sign_in(client, conforming.server, conforming.operator)
        assert answer.status_code == 303, answer.text
        assert answer.headers["location"] == "/admin/districts"
        console = await client.get(conforming.server.url("/admin/districts"))
        assert f"{conforming.operator}@staff.example.gov" in console.text
