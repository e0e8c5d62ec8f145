"""What "Your connection is valid" means (docs/connection-test.md), against a real vendor on
loopback: the token endpoint grants a token for the stored key/secret/user/password, and the
upload endpoint's answer shows that the path exists, takes POST and accepts that token. Each
way that is not so is red, with its reason; the seed's exact vendor values are green."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import asyncpg
import pytest

from gateway.audit import Actor
from gateway.control import vendors
from gateway.outgoing.client import Timeouts
from gateway.outgoing.probe import FAILED, VALID, ProbeResult, check_connection
from tenants.stores import StoreRegistry
from tests.conftest import SESSION_MASTER_KEYS
from tests.outgoing.conftest import MakeConnection
from tests.outgoing.fake_vendor import SEED_PATH, FakeVendor, Faults

ACTOR = Actor("operator", "ops@dpi.example")
QUICK = Timeouts(connect=0.5, read=0.5)


async def probe(stores: StoreRegistry, connection_id: UUID) -> ProbeResult:
    return await check_connection(
        stores.control, SESSION_MASTER_KEYS, connection_id, ACTOR, timeouts=QUICK
    )


async def test_the_seed_vendor_values_as_typed_are_saved_and_test_green(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    # Upload Path without its leading slash, http, as the vendor's documentation gives them.
    connection_id = await connection_to(upload_path=SEED_PATH, upload_server=vendor.base_url)

    stored = await vendors.get(app_conn, connection_id)
    assert stored["upload_path"] == f"/{SEED_PATH}"
    result = await probe(stores, connection_id)
    assert (result.ok, result.headline, result.upload_status) == (True, VALID, 204)


@pytest.mark.parametrize(
    ("case", "faults", "overrides", "reason", "says"),
    [
        (
            "404",
            Faults(),
            {"upload_path": "/no-such-path"},
            "404 from the upload server",
            "upload path was not found (404): check the Upload Path",
        ),
        (
            "405",
            Faults(),
            {"upload_path": "/status"},
            "405 from the upload server",
            "does not accept POST (405, Allow: ",
        ),
        (
            "401",
            Faults(options_status=401),
            {},
            "unexpected response",
            "answered 401 to the token the auth server just granted",
        ),
        (
            "5xx",
            Faults(options_status=503),
            {},
            "unexpected response",
            "answered 503 (the vendor is failing)",
        ),
        ("tls", Faults(), {"upload_server": "TLS"}, "TLS", "TLS: handshake with the upload server"),
        ("timeout", Faults(options_delay=3.0), {}, "timeout", "the upload server 127.0.0.1"),
        (
            "dns",
            Faults(),
            {"upload_server": "https://upload.vendor.invalid"},
            "DNS",
            "the upload server upload.vendor.invalid",
        ),
        (
            "auth-path-404",
            Faults(),
            {"auth_path": "/no-token-here"},
            "unexpected response",
            "auth server answered 404: check the Auth Path",
        ),
    ],
    ids=["404", "405", "401", "5xx", "tls", "timeout", "dns", "auth-path-404"],
)
async def test_each_failing_vendor_case_is_red_with_its_reason(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    case: str,
    faults: Faults,
    overrides: dict[str, Any],
    reason: str,
    says: str,
) -> None:
    vendor.reset(faults)
    if overrides.get("upload_server") == "TLS":  # https to a port that speaks plain HTTP
        overrides = {**overrides, "upload_server": "https://127.0.0.1"}
    connection_id = await connection_to(**overrides)

    result = await probe(stores, connection_id)

    assert (result.ok, result.headline, result.reason) == (False, FAILED, reason), result.message
    assert says in result.message
    assert vendor.upload_calls == 0  # a test never uploads
    stored = await vendors.get(app_conn, connection_id)
    assert (stored["last_test_ok"], stored["last_test_message"]) == (False, result.message)
