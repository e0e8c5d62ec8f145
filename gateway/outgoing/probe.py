"""Test an outgoing connection: can the gateway get a token, and does the upload endpoint
answer it? The result and its time are stored on the connection and audited.

What the test does, with strict timeouts (5 s to connect, 5 s per read by default):

1. asks `auth server + auth path` for a token with the connection's grant: the password
   grant with client authentication (consumer key and secret as HTTP Basic, user name and
   password in the form), or client credentials;
2. sends an authenticated OPTIONS to the upload URL. Valid means the answer shows the path
   exists, takes POST and accepts the token: a 2xx (whose Allow, if any, lists POST) or a 405
   whose Allow lists POST; a 404, another 405, 401/403, 3xx or 5xx is a failure with its
   reason (`failures.probe_upload_status`, docs/connection-test.md). Nothing is uploaded.

For the console's Test button:

    result = await check_connection(svc.stores.control, svc.settings.master_keys, id, actor)

`result.headline` is "Your connection is valid" or "Connection failed", `result.reason` the
short label (DNS, TLS, refused, timeout, 401 from the auth server, 404 from the upload server,
405 from the upload server, unexpected response) and
`result.message` the sentence. No database connection is held while it waits on the network
(at most about 2 x 10 s), so a page may run it as a background task, show "Test initiated" at
once, and then read `last_test_at/ok/message` from `gateway.control.vendors.get`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg
import httpx

from gateway.audit import Actor, AuditEvent, record
from gateway.control import vendors
from gateway.outgoing.client import Endpoint, Timeouts, VendorClient
from gateway.outgoing.failures import Failure, VendorFailure, probe_upload_status
from gateway.settings import MasterKey

PROBE_TIMEOUTS = Timeouts(connect=5.0, read=5.0)
VALID = "Your connection is valid"
FAILED = "Connection failed"


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    # None when valid; else a failure kind (dns, tls, refused, timeout, auth, ...).
    kind: str | None
    # The short label: DNS, TLS, refused, timeout, 401 from the auth server, unexpected response.
    reason: str | None
    message: str
    upload_status: int | None
    elapsed_ms: int
    tested_at: datetime

    @property
    def headline(self) -> str:
        return VALID if self.ok else FAILED

    def as_dict(self) -> dict[str, Any]:
        return {"headline": self.headline, **asdict(self)}


async def _exchange(
    client: VendorClient, endpoint: Endpoint, secrets: vendors.VendorSecrets
) -> int:
    """Token, then the upload check; the upload status, or VendorFailure."""
    token = await client.fetch_token(endpoint, secrets)
    status, allow = await client.check_upload(endpoint, token)
    failure = probe_upload_status(status, allow)
    if failure is not None:
        raise VendorFailure(failure)
    return status


async def run_probe(
    client: VendorClient, endpoint: Endpoint, secrets: vendors.VendorSecrets
) -> ProbeResult:
    """The network part alone: no database, nothing recorded."""
    started = time.perf_counter()
    failure: Failure | None = None
    status: int | None = None
    try:
        status = await _exchange(client, endpoint, secrets)
    except VendorFailure as failed:
        failure = failed.failure
    elapsed = int((time.perf_counter() - started) * 1000)
    now = datetime.now(UTC)
    if failure is None:
        message = f"Token obtained; the upload endpoint answered {status}"
        return ProbeResult(True, None, None, message, status, elapsed, now)
    return ProbeResult(False, failure.kind, failure.reason, failure.message, None, elapsed, now)


async def check_connection(
    pool: asyncpg.Pool,
    keys: tuple[MasterKey, ...],
    connection_id: UUID,
    actor: Actor,
    *,
    timeouts: Timeouts = PROBE_TIMEOUTS,
    http: httpx.AsyncClient | None = None,
) -> ProbeResult:
    """Test the connection, store the result on it (`record_test`) and audit the test.

    Raises NotFound for an unknown connection; a failing vendor is a result, not an error.
    Nothing is logged: the audit row is the record, and the CLI prints to stdout.
    """
    async with pool.acquire() as conn:
        row = await vendors.get(conn, connection_id)
        endpoint = Endpoint.from_row(row)
        # Decrypted now, for the one exchange below; never stored, never logged.
        secrets = await vendors.secrets_for_use(conn, keys, connection_id)
    own_http = http is None
    session = http or VendorClient.new_http(timeouts, max_connections=2)
    try:
        result = await run_probe(VendorClient(session, timeouts), endpoint, secrets)
    finally:
        del secrets
        if own_http:
            await session.aclose()
    async with pool.acquire() as conn, conn.transaction():
        # Stored only if nobody edited the connection meanwhile: the result is for the values
        # read above, and a batch may follow only a valid test of the values it will use.
        await vendors.record_test(
            conn, connection_id, result.ok, result.message, tested_version=row["updated_at"]
        )
        await record(
            conn,
            AuditEvent(
                actor,
                "outgoing.test",
                "success" if result.ok else "failure",
                district_id=row["district_id"],
                target=str(connection_id),
                detail={"kind": result.kind, "message": result.message},
            ),
        )
    return result
