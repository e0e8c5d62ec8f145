"""Sign-ins under way, in Postgres: authlib's state cache, shared by every worker.

authlib's Starlette client keeps what the callback needs (nonce, PKCE `code_verifier`, the
redirect URI) in a cache when it is given one, keyed by the `state` value, and keeps a marker
in `request.session` that proves the callback comes from the browser that started the sign-in
(RFC 6749 §10.12). The gateway has no cookie session before sign-in, so:

* the data goes here, under a SHA-256 of authlib's key, sealed with the master key (AEAD,
  the key hash as associated data): a database reader learns neither the nonce nor the
  verifier; rows live ten minutes and are taken once (`get` deletes what it returns, so two
  callbacks racing with one `state` cannot both finish);
* the marker is rebuilt from a short-lived cookie that holds the `state` (`gateway.web.oidc`).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg

from gateway.crypto.aead import DecryptionFailed, open_text, seal_text
from gateway.settings import MasterKey

LIFETIME_SECONDS = 600
MAX_VALUE = 8 * 1024


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


async def purge(pool: asyncpg.Pool) -> int:
    """Delete the sign-ins that were never finished; how many went (for housekeeping)."""
    return int((await pool.execute("DELETE FROM oidc_flows WHERE expires_at < now()")).split()[-1])


class FlowStore:
    """The `cache` authlib's OAuth registry takes: async get / set / delete of text values."""

    def __init__(self, pool: asyncpg.Pool, master_keys: tuple[MasterKey, ...]) -> None:
        self._pool = pool
        self._keys = master_keys

    async def get(self, key: str) -> str | None:
        digest = _hash(key)
        async with self._pool.acquire() as conn:
            sealed = await conn.fetchval(
                "DELETE FROM oidc_flows WHERE flow_hash = $1 AND expires_at > now() RETURNING sealed",
                digest,
            )
        if sealed is None:
            return None
        try:
            return open_text(self._keys, sealed, digest.hex())
        except DecryptionFailed:
            return None  # sealed under a master key since retired: the sign-in starts over

    async def set(self, key: str, value: str, expires_in: int | None = None) -> None:
        if len(value) > MAX_VALUE:
            raise ValueError("sign-in state too large")
        digest = _hash(key)
        lifetime = min(expires_in or LIFETIME_SECONDS, LIFETIME_SECONDS)
        async with self._pool.acquire() as conn:
            # Abandoned sign-ins are deleted by housekeeping (`purge`); `get` ignores them.
            await conn.execute(
                "INSERT INTO oidc_flows (flow_hash, sealed, expires_at) VALUES ($1, $2, $3)"
                " ON CONFLICT (flow_hash) DO UPDATE SET sealed = EXCLUDED.sealed,"
                " expires_at = EXCLUDED.expires_at",
                digest,
                seal_text(self._keys, value, digest.hex()),
                datetime.now(UTC) + timedelta(seconds=lifetime),
            )

    async def delete(self, key: str) -> None:
        async with self._pool.acquire() as conn:
            await conn.execute("DELETE FROM oidc_flows WHERE flow_hash = $1", _hash(key))
