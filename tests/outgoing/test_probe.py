"""The connection test against a real server on loopback: valid, and each way it fails, with
the reason the console shows; the result is stored on the connection and audited."""

from __future__ import annotations

from uuid import UUID

import asyncpg
import pytest

from gateway.audit import Actor
from gateway.control import vendors
from gateway.outgoing.client import Timeouts
from gateway.outgoing.probe import FAILED, VALID, ProbeResult, check_connection
from tenants.stores import StoreRegistry
from tests.conftest import SESSION_MASTER_KEYS
from tests.outgoing.conftest import MakeConnection, wrong_secret
from tests.outgoing.fake_vendor import FakeVendor, Faults, free_port

ACTOR = Actor("operator", "ops@dpi.example")
# Generous, so that a loaded machine never turns a working vendor into a timeout; the test
# of the timeout itself uses QUICK against a vendor far slower than it.
PATIENT = Timeouts(connect=10.0, read=10.0)
QUICK = Timeouts(connect=0.5, read=0.5)
WRONG = "<a wrong value>"  # replaced by a fresh, remembered one in the test


async def probe(
    stores: StoreRegistry, connection_id: UUID, timeouts: Timeouts = PATIENT
) -> ProbeResult:
    return await check_connection(
        stores.control, SESSION_MASTER_KEYS, connection_id, ACTOR, timeouts=timeouts
    )


async def test_valid_connection_gets_a_token_and_reaches_the_upload_endpoint(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    connection_id = await connection_to()

    result = await probe(stores, connection_id)

    assert (result.ok, result.headline, result.upload_status) == (True, VALID, 204)
    assert vendor.token_calls == 1
    assert vendor.upload_calls == 0  # OPTIONS only: a test never uploads anything
    stored = await vendors.get(app_conn, connection_id)
    assert stored["last_test_ok"] is True
    assert stored["last_test_at"] is not None
    audit = await app_conn.fetchrow(
        "SELECT actor, outcome FROM audit_log WHERE action = 'outgoing.test' AND target = $1",
        str(connection_id),
    )
    assert audit is not None
    assert (audit["actor"], audit["outcome"]) == ("ops@dpi.example", "success")


async def test_client_credentials_grant_needs_no_user_password(
    stores: StoreRegistry, vendor: FakeVendor, connection_to: MakeConnection
) -> None:
    connection_id = await connection_to(grant_type="client_credentials", password=wrong_secret())
    assert (await probe(stores, connection_id)).ok


@pytest.mark.parametrize(
    ("overrides", "reason", "says"),
    [
        ({"password": WRONG}, "401 from the auth server", "user name or password was refused"),
        ({"consumer_secret": WRONG}, "401 from the auth server", "consumer key or secret"),
        ({"auth_server": "http://127.0.0.1", "auth_path": "/x"}, "refused", "refused"),
        ({"auth_server": "https://vendor-auth.invalid"}, "DNS", "does not resolve"),
        ({"auth_server": "TLS"}, "TLS", "TLS: handshake"),
        ({"upload_port": "REFUSED"}, "refused", "the upload server"),
    ],
    ids=["wrong-password", "wrong-secret", "refused", "dns", "tls", "upload-refused"],
)
async def test_failures_are_classified_with_a_reason(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    overrides: dict[str, object],
    reason: str,
    says: str,
) -> None:
    overrides = {k: wrong_secret() if v == WRONG else v for k, v in overrides.items()}
    if overrides.get("auth_server") == "http://127.0.0.1":
        overrides["auth_server"] = f"http://127.0.0.1:{free_port()}"
    if overrides.get("auth_server") == "TLS":  # https to a server that speaks plain HTTP
        overrides["auth_server"] = f"https://127.0.0.1:{vendor.port}"
    if overrides.get("upload_port") == "REFUSED":
        overrides["upload_port"] = free_port()
    connection_id = await connection_to(**overrides)

    result = await probe(stores, connection_id)

    assert (result.ok, result.headline, result.reason) == (False, FAILED, reason)
    assert says in result.message
    stored = await vendors.get(app_conn, connection_id)
    assert stored["last_test_ok"] is False
    assert stored["last_test_message"] == result.message


async def test_slow_auth_server_is_a_timeout_within_the_limit(
    stores: StoreRegistry, vendor: FakeVendor, connection_to: MakeConnection
) -> None:
    vendor.reset(Faults(token_delay=30.0))
    connection_id = await connection_to()

    result = await probe(stores, connection_id, QUICK)

    assert (result.ok, result.reason) == (False, "timeout")
    assert result.elapsed_ms < 20_000  # the strict timeout, not the 30 s vendor, ended it


async def test_upload_endpoint_refusing_the_token_is_an_unexpected_response(
    stores: StoreRegistry, vendor: FakeVendor, connection_to: MakeConnection
) -> None:
    vendor.reset(Faults(options_status=403))
    connection_id = await connection_to()

    result = await probe(stores, connection_id)

    assert (result.ok, result.kind, result.reason) == (False, "unauthorized", "unexpected response")


async def test_upload_endpoint_without_options_still_counts_as_reachable(
    stores: StoreRegistry, vendor: FakeVendor, connection_to: MakeConnection
) -> None:
    vendor.reset(Faults(options_status=405))
    connection_id = await connection_to()

    result = await probe(stores, connection_id)

    assert (result.ok, result.upload_status) == (True, 405)
