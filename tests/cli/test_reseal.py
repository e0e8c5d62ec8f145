"""`gateway keys reseal`: after it, the old master key is removed from configuration and every
sealed value (signing keys, vendor secrets) still opens; a second run has nothing left to do;
the run is audited. On a database of its own, since it re-seals every row there is."""

from __future__ import annotations

import base64
import json
import secrets

import asyncpg
import pytest
from click.testing import CliRunner

from gateway.cli import cli
from gateway.control import vendors
from gateway.database.bootstrap import bootstrap
from gateway.database.migrations import CONTROL, DISTRICT, migrate
from gateway.oauth.keys import SigningKeys
from gateway.settings import MasterKey
from tests.conftest import PgDatabase
from tests.factories import CONSUMER_ACTOR, add_district

OLD = MasterKey("old", secrets.token_bytes(32))
NEW = MasterKey("new", secrets.token_bytes(32))


def configured(*keys: MasterKey) -> str:
    return ",".join(f"{k.kid}:{base64.urlsafe_b64encode(k.key).decode()}" for k in keys)


@pytest.fixture
async def custody_db(database: PgDatabase) -> tuple[str, str]:
    urls = (
        await bootstrap(
            database.superuser_url, ["gateway_reseal"], password=database.password, fresh=True
        )
    )["gateway_reseal"]
    await migrate(urls.owner_url, [CONTROL, DISTRICT])
    return urls.app_url, urls.owner_url


async def reseal(app_url: str, owner_url: str, *keys: MasterKey) -> dict[str, object]:
    import asyncio

    env = {
        "GATEWAY_DATABASE_URL": app_url,
        "GATEWAY_MIGRATION_DATABASE_URL": owner_url,
        "GATEWAY_MASTER_KEY": configured(*keys),
        "GATEWAY_ENV": "test",
    }
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["--env-file", "/nonexistent", "keys", "reseal", "--json"],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


async def test_reseal_then_retire_the_old_master_key(custody_db: tuple[str, str]) -> None:
    app_url, owner_url = custody_db
    owner = await asyncpg.connect(owner_url)
    pool = await asyncpg.create_pool(app_url, min_size=1, max_size=2)
    try:
        # Sealed under OLD: a signing key, and a vendor connection's two secrets.
        await SigningKeys(pool, (OLD,)).ensure_active()
        lea = (await add_district(owner, "R0001")).lea_code
        async with pool.acquire() as conn:
            created = await vendors.add(
                conn,
                (OLD,),
                lea,
                vendors.ConnectionInput(
                    name="Vendor",
                    auth_server="https://auth.vendor.example",
                    auth_path="/oauth/token",
                    upload_server="https://upload.vendor.example",
                    upload_port=443,
                    upload_path="/upload",
                    consumer_key="ck",
                    consumer_secret="vendor-consumer-secret",
                    username="gateway",
                    password="vendor-password",
                ),
                CONSUMER_ACTOR,
                allow_insecure=False,
            )
        connection_id = created["connection_id"]

        first = await reseal(app_url, owner_url, NEW, OLD)
        assert first["resealed"] == {"signing_keys": 1, "outgoing_connections": 1}
        assert first["sealed_under"] == {"new": 3} and first["retirable"] == ["old"]

        # OLD is gone from the configuration: everything still opens under NEW alone.
        keys = SigningKeys(pool, (NEW,))
        await keys.load()
        assert keys.signer.kid is not None
        async with pool.acquire() as conn:
            opened = await vendors.secrets_for_use(conn, (NEW,), connection_id)
        assert (opened.consumer_secret, opened.password) == (
            "vendor-consumer-secret",
            "vendor-password",
        )
        # Resumable and idempotent: a second run (now with NEW alone) finds nothing left.
        again = await reseal(app_url, owner_url, NEW)
        assert again["resealed"] == {"signing_keys": 0, "outgoing_connections": 0}
        audited = await owner.fetch(
            "SELECT target, detail FROM audit_log WHERE action = 'keys.reseal' ORDER BY audit_id"
        )
        assert [r["target"] for r in audited] == ["new", "new"]
    finally:
        await pool.close()
        await owner.close()


async def test_reseal_refuses_when_a_sealing_key_is_not_configured(
    custody_db: tuple[str, str],
) -> None:
    app_url, owner_url = custody_db
    pool = await asyncpg.create_pool(app_url, min_size=1, max_size=2)
    try:
        await SigningKeys(pool, (OLD,)).ensure_active()
    finally:
        await pool.close()
    import asyncio

    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["--env-file", "/nonexistent", "keys", "reseal"],
        env={
            "GATEWAY_DATABASE_URL": app_url,
            "GATEWAY_MIGRATION_DATABASE_URL": owner_url,
            "GATEWAY_MASTER_KEY": configured(NEW),
            "GATEWAY_ENV": "test",
        },
    )
    assert result.exit_code != 0
    assert "old" in result.output
