"""What expires is cleaned up: old lockout counters, revoked tokens, web sessions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from starlette.applications import Starlette


async def test_expired_rows_go_and_live_ones_stay(
    gateway_app: Starlette, owner_conn: asyncpg.Connection
) -> None:
    svc = gateway_app.state.services
    now = datetime.now(UTC)
    await owner_conn.execute(
        "INSERT INTO auth_failures (scope, key, failures, window_started, locked_until) VALUES"
        " ('client_addr', 'hk-old|192.0.2.9', 3, $1, NULL),"
        " ('client_addr', 'hk-locked|192.0.2.9', 9, $1, $2),"
        " ('client_addr', 'hk-fresh|192.0.2.9', 1, $3, NULL)",
        now - timedelta(days=2),
        now + timedelta(hours=1),
        now,
    )
    await owner_conn.execute(
        "INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES ('hk-old', 'x', $1), ('hk-live', 'x', $2)",
        now - timedelta(days=3),
        now + timedelta(minutes=10),
    )
    await owner_conn.execute(
        "INSERT INTO oidc_flows (flow_hash, sealed, expires_at) VALUES"
        " ('\\x01'::bytea, 'x', $1), ('\\x02'::bytea, 'x', $2)",
        now - timedelta(minutes=1),
        now + timedelta(minutes=9),
    )
    purged = await svc.housekeeping.run_once()
    assert set(purged) == {
        "lockout_counters",
        "revoked_tokens",
        "sessions",
        "oidc_flows",
        "rate_buckets",
        "interrupted_loads",
        "load_errors",
    }
    assert purged["lockout_counters"] >= 1 and purged["revoked_tokens"] >= 1
    left = {
        r["key"]
        for r in await owner_conn.fetch("SELECT key FROM auth_failures WHERE key LIKE 'hk-%'")
    }
    assert left == {"hk-locked|192.0.2.9", "hk-fresh|192.0.2.9"}
    jtis = {
        r["jti"]
        for r in await owner_conn.fetch("SELECT jti FROM revoked_tokens WHERE jti LIKE 'hk-%'")
    }
    assert jtis == {"hk-live"}
    flows = await owner_conn.fetch("SELECT flow_hash FROM oidc_flows WHERE length(flow_hash) = 1")
    assert [bytes(r["flow_hash"]) for r in flows] == [b"\x02"]
