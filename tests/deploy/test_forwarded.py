"""The compose deployment, on loopback: `gateway serve` with the compose file's command and
variables behind a real nginx with the compose file's proxy template. A forged X-Forwarded-For
changes nothing: lockout keys on the real peer (what nginx saw, or the direct peer when the
proxy is bypassed), and the rate limit on the client, whatever address it claims."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import httpx
import pytest

from tests.conftest import PgDatabase
from tests.deploy.servers import compose_gateway, nginx, nginx_binary, running, trusting
from tests.oauth.conftest import Pair
from tests.secrets_seen import remember

pytestmark = pytest.mark.skipif(
    nginx_binary() is None, reason="nginx is not installed (scripts/install installs it)"
)

VICTIM = "198.51.100.9"  # the address an attacker would like to see locked out


def token(client: httpx.Client, pair: Pair, secret: str, forged: str) -> httpx.Response:
    response = client.post(
        "/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=(pair.client_id, secret),
        headers={"X-Forwarded-For": forged},
    )
    if response.status_code == 200:
        remember(response.json()["access_token"])
    return response


def from_address(base: str, address: str, **kw: object) -> httpx.Client:
    """A client whose connections leave from `address` (any of 127.0.0.0/8 is ours)."""
    transport = httpx.HTTPTransport(local_address=address, **kw)  # type: ignore[arg-type]
    return httpx.Client(base_url=base, transport=transport, timeout=30)


async def lock_keys(control: asyncpg.Connection, client_id: str) -> set[str]:
    rows = await control.fetch(
        "SELECT key FROM auth_failures WHERE scope = 'client_addr' AND key LIKE $1",
        f"{client_id}|%",
    )
    return {r["key"].split("|", 1)[1] for r in rows}


async def test_forged_forwarded_for_picks_neither_lockout_nor_rate_limit(
    database: PgDatabase, pair: Pair, control: asyncpg.Connection, tmp_path: Path
) -> None:
    args, env = compose_gateway(
        database,
        "127.0.0.1",  # nginx connects to the gateway from 127.0.0.1
        GATEWAY_BASE_URL="https://127.0.0.1",
        # One token per 100 s after a burst of 3: no refill can blur the count below.
        GATEWAY_TOKEN_RATE_PER_SECOND="0.01",
        GATEWAY_TOKEN_RATE_BURST="3",
    )
    with (
        running(args, env, tmp_path / "gateway.log") as direct,
        nginx(tmp_path / "nginx", direct.removeprefix("http://")) as (https, cert),
        from_address(https, "127.0.0.2", verify=trusting(cert)) as attacker,
        from_address(https, "127.0.0.4", verify=trusting(cert)) as registrar,
        from_address(direct, "127.0.0.3") as bypass,
    ):
        # Wrong secrets through the proxy, claiming to be the victim's address.
        for _ in range(int(env.get("GATEWAY_LOCKOUT_THRESHOLD", "5")) + 1):
            assert token(attacker, pair, "etgs_wrong", VICTIM).status_code == 401
        assert await lock_keys(control, pair.client_id) == {"127.0.0.2"}
        # Locked from the attacker's real address, even with the right secret...
        assert token(attacker, pair, pair.secret, VICTIM).status_code == 401
        # ...but not from the victim's, and not from the address the attacker claimed.
        assert token(registrar, pair, pair.secret, "127.0.0.2").status_code == 200

        # Straight to the gateway, skipping the proxy: its X-Forwarded-For is not believed.
        assert token(bypass, pair, "etgs_wrong", VICTIM).status_code == 401
        assert await lock_keys(control, pair.client_id) == {"127.0.0.2", "127.0.0.3"}

        # The rate limit counts the client, whatever address each request claims: 3 in
        # the burst, one of which the registrar spent above.
        statuses = [
            token(registrar, pair, pair.secret, f"203.0.113.{n}").status_code for n in range(6)
        ]
        assert statuses == [200, 200, 429, 429, 429, 429]
