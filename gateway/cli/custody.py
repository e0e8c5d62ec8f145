"""Key custody: re-seal every value the master key protects under the first configured key,
so that an old master key can be retired (`gateway keys reseal`).

What is sealed (gateway.crypto.aead): the signing keys' private halves and the outgoing
connections' vendor secrets. Each owner re-seals its own rows, one row per transaction, so
the run is online (workers keep serving: every blob opens with either key while both are
configured) and resumable (stopped half-way, a second run does the rest). The run is audited.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.control import vendors
from gateway.errors import ConfigurationError
from gateway.oauth import keys as signing
from gateway.settings import MasterKey


async def sealed_under(conn: asyncpg.Connection) -> dict[str, int]:
    """How many sealed values each master key holds, by key id."""
    counts: dict[str, int] = {}
    for part in (await signing.sealed_under(conn), await vendors.sealed_under(conn)):
        for kid, n in part.items():
            counts[kid] = counts.get(kid, 0) + n
    return counts


async def reseal(
    conn: asyncpg.Connection, master_keys: tuple[MasterKey, ...], actor: Actor
) -> dict[str, Any]:
    if not master_keys:
        raise ConfigurationError("GATEWAY_MASTER_KEY is not set")
    target = master_keys[0].kid
    before = await sealed_under(conn)
    missing = sorted(set(before) - {k.kid for k in master_keys})
    if missing:
        raise ConfigurationError(
            f"values are sealed under master key(s) {', '.join(missing)}, which "
            "GATEWAY_MASTER_KEY does not list: add them (after the new first key) and run again"
        )
    resealed = {
        "signing_keys": await signing.reseal(conn, master_keys),
        "outgoing_connections": await vendors.reseal(conn, master_keys),
    }
    after = await sealed_under(conn)
    retirable = sorted(k.kid for k in master_keys[1:] if not after.get(k.kid))
    await record(
        conn,
        AuditEvent(
            actor,
            "keys.reseal",
            target=target,
            detail={"resealed": resealed, "sealed_under": after},
        ),
    )
    return {
        "master_key": target,
        "resealed": resealed,
        "sealed_under": after,
        "retirable": retirable,
    }
