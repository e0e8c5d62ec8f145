"""A state's OpenID provider and two gateway workers that sign staff in through it.

`oidc_world` (session): node's oidc-provider on loopback (tests/oidc/provider.py) with test
accounts and groups, and two instances of the real app under uvicorn (`a`, `b`) on one test
database, as two workers of one deployment are. The provider knows both redirect URIs and
sends back-channel logouts to `b` only, so a session made on `a` ending proves that a
logout reaches every worker.

`sign_in(client, server, login)` walks the whole redirect round trip with an httpx client
(its cookie jar plays the browser): the gateway's /login/oidc, the provider's login form,
back to the gateway's callback. It returns the callback's answer.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from html import unescape
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from starlette.datastructures import Secret

from gateway.control import users
from gateway.settings import OidcSettings
from tests.conftest import PgDatabase, unique_lea
from tests.factories import CONSUMER_ACTOR, add_district
from tests.oidc.provider import OpenIdProvider, missing_provider, new_key
from tests.secrets_seen import remember
from tests.web.browser import LiveServer, free_socket, start_server

BREAK_GLASS_PASSWORD = "break glass passphrase 42"
CLIENT_ID = "etranscript-gateway"
KEY_CLIENT_ID = "etranscript-gateway-pkjwt"  # authenticates with private_key_jwt
PROVIDER_NAME = "NCID (test)"


@dataclass(frozen=True)
class OidcWorld:
    provider: OpenIdProvider
    a: LiveServer
    b: LiveServer
    c: LiveServer  # signs in with private_key_jwt instead of the client secret
    client_secret: str
    lea: str
    other_lea: str
    operator: str  # provider logins (= subjects)
    district_user: str
    other_district_user: str
    stranger: str
    two_districts: str
    to_disable: str
    unknown_district: str

    @property
    def issuer(self) -> str:
        return self.provider.issuer

    def email(self, login: str) -> str:
        return f"{login}@staff.example.gov"


def accounts(lea: str, other: str) -> dict[str, dict[str, Any]]:
    def person(login: str, groups: list[str], name: str) -> dict[str, Any]:
        return {
            "email": f"{login}@staff.example.gov",
            "email_verified": True,
            "name": name,
            "groups": groups,
        }

    suffix = secrets.token_hex(3)
    return {
        f"op-{suffix}": person(
            f"op-{suffix}", ["etranscripts-operators", "dpi-all-staff"], "Olive Operator"
        ),
        f"reg-{suffix}": person(
            f"reg-{suffix}", [f"etranscripts-{lea}", "dpi-all-staff"], "Reggie Registrar"
        ),
        f"oth-{suffix}": person(f"oth-{suffix}", [f"etranscripts-{other}"], "Otto Other"),
        f"str-{suffix}": person(f"str-{suffix}", ["dpi-all-staff"], "Stan Stranger"),
        f"two-{suffix}": person(
            f"two-{suffix}", [f"etranscripts-{lea}", f"etranscripts-{other}"], "Tess Two"
        ),
        f"dis-{suffix}": person(f"dis-{suffix}", [f"etranscripts-{lea}"], "Dana Disabled"),
        f"unk-{suffix}": person(f"unk-{suffix}", ["etranscripts-ZZZ999"], "Uma Unknown"),
    }


def client_metadata(servers: list[str], backchannel: str, secret: str) -> dict[str, Any]:
    return {
        "client_id": CLIENT_ID,
        "client_secret": secret,
        "redirect_uris": [f"{s}/login/oidc/callback" for s in servers],
        "post_logout_redirect_uris": [f"{s}/login" for s in servers],
        "backchannel_logout_uri": f"{backchannel}/login/oidc/backchannel-logout",
        "backchannel_logout_session_required": True,
        "grant_types": ["authorization_code"],
        "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic",
    }


async def start_world(database: PgDatabase, workdir: Path) -> OidcWorld:
    missing = missing_provider()
    if missing:
        pytest.fail(missing, pytrace=False)
    lea, other = unique_lea(), unique_lea()
    owner = await asyncpg.connect(database.owner_url)
    try:
        await add_district(owner, lea, name=f"Test {lea} County Schools")
        await add_district(owner, other)
    finally:
        await owner.close()
    socks = [free_socket(), free_socket(), free_socket()]
    bases = [f"http://127.0.0.1:{s.getsockname()[1]}" for s in socks]
    secret = secrets.token_urlsafe(32)
    remember(secret)
    people = accounts(lea, other)
    client_key = new_key("rp-1")
    by_key = {
        **client_metadata(bases[2:], bases[2], secret),
        "client_id": KEY_CLIENT_ID,
        "token_endpoint_auth_method": "private_key_jwt",
        "token_endpoint_auth_signing_alg": "RS256",
        "jwks": {"keys": [client_key.as_dict(private=False)]},
    }
    del by_key["client_secret"]
    provider = OpenIdProvider.start(
        workdir,
        clients=[client_metadata(bases[:2], bases[1], secret), by_key],
        accounts=people,
    )
    config = OidcSettings(
        issuer=provider.issuer,
        client_id=CLIENT_ID,
        client_secret=Secret(secret),
        provider_name=PROVIDER_NAME,
    )
    key_file = workdir / "rp-key.json"
    key_file.write_text(json.dumps(client_key.as_dict(private=True)))
    configs = [
        config,
        config,
        replace(
            config,
            client_id=KEY_CLIENT_ID,
            client_secret=None,
            private_key=Secret(key_file.read_text()),
        ),
    ]
    servers = [
        start_server(
            lambda port, i=i: database.settings(
                workdir / f"home-{i}", base_url=f"http://127.0.0.1:{port}", oidc=configs[i]
            ),
            sock,
        )
        for i, sock in enumerate(socks)
    ]
    for server in servers:
        await server.wait_ready()
    logins = list(people)
    return OidcWorld(provider, *servers, secret, lea, other, *logins)


@pytest.fixture(scope="session")
async def oidc_world(
    database: PgDatabase, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[OidcWorld]:
    world = await start_world(database, tmp_path_factory.mktemp("oidc"))
    try:
        yield world
    finally:
        for server in (world.a, world.b, world.c):
            await server.stop()
        world.provider.stop()


# --- walking the redirects -------------------------------------------------------------------


def _form_action(html: str) -> str:
    found = re.search(r'<form[^>]*action="([^"]+)"', html)
    assert found, f"no form on the provider's page: {html[:300]}"
    return unescape(found.group(1))


async def follow(client: httpx.AsyncClient, response: httpx.Response, stop: str) -> httpx.Response:
    """Follow redirects until one leads to a URL containing `stop` (that answer is returned)."""
    for _ in range(10):
        if str(response.url).find(stop) >= 0 or response.status_code not in (302, 303):
            return response
        response = await client.get(httpx.URL(response.url).join(response.headers["location"]))
    raise AssertionError("too many redirects")


async def sign_in(
    client: httpx.AsyncClient, server: LiveServer, login: str, next_path: str | None = None
) -> httpx.Response:
    """The round trip: gateway → provider's login form → gateway's callback (its answer)."""
    start = await client.get(
        server.url("/login/oidc"), params={"next": next_path} if next_path else None
    )
    assert start.status_code == 302, start.text
    page = await follow(client, start, "/interaction/")
    if "/login/oidc/callback" not in str(page.url):
        assert page.status_code == 200, page.text
        submitted = await client.post(
            page.url.join(_form_action(page.text)),
            data={"prompt": "login", "login": login, "password": "any password"},
        )
        page = await follow(client, submitted, "/login/oidc/callback")
    assert "/login/oidc/callback" in str(page.url), (page.status_code, page.text[:300])
    return page


async def provider_logout(client: httpx.AsyncClient, world: OidcWorld) -> None:
    """End the session at the provider (its own page, "Yes, sign me out"): it then sends
    back-channel logout tokens to every client the session signed in to."""
    page = await client.get(f"{world.issuer}/session/end", params={"client_id": CLIENT_ID})
    assert page.status_code == 200, page.text
    xsrf = re.search(r'name="xsrf" value="([^"]+)"', page.text)
    assert xsrf, page.text[:300]
    done = await client.post(
        page.url.join(_form_action(page.text)), data={"xsrf": xsrf.group(1), "logout": "yes"}
    )
    assert done.status_code in (200, 302, 303), done.text


async def ensure_break_glass(conn: asyncpg.Connection) -> None:
    """A local operator account exists (the sign-in page then shows the password form)."""
    remember(BREAK_GLASS_PASSWORD)
    if not await users.any_local(conn):
        await users.add(
            conn,
            email="breakglass@dpi.example.gov",
            role="operator",
            lea_code=None,
            password=BREAK_GLASS_PASSWORD,
            actor=CONSUMER_ACTOR,
        )
