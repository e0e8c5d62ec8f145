"""Access tokens revoked before they expire (RFC 7009), known to every worker in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

# A revoked token stops mattering once its signature check fails anyway (it expired);
# the row is kept a day longer for whoever investigates.
_PURGE = "DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 day'"


class RevokedTokens:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._jtis: dict[str, datetime] = {}

    def __contains__(self, jti: object) -> bool:
        return jti in self._jtis

    async def load(self) -> None:
        rows = await self._pool.fetch(
            "SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > now() - interval '5 minutes'"
        )
        self._jtis = {r["jti"]: r["expires_at"] for r in rows}

    async def refresh(self, jti: str) -> None:
        expires = await self._pool.fetchval(
            "SELECT expires_at FROM revoked_tokens WHERE jti = $1", jti
        )
        if expires is not None:
            self._jtis[jti] = expires

    async def revoke(self, jti: str, client_id: str, expires_at: datetime) -> None:
        await self._pool.execute(
            "INSERT INTO revoked_tokens (jti, client_id, expires_at) VALUES ($1, $2, $3)"
            " ON CONFLICT (jti) DO NOTHING",
            jti,
            client_id,
            expires_at,
        )
        self._jtis[jti] = expires_at

    async def purge(self) -> int:
        """Delete the rows of tokens expired for a day, and forget them here; how many went."""
        deleted = int((await self._pool.execute(_PURGE)).split()[-1])
        self.prune()
        return deleted

    def prune(self, now: datetime | None = None) -> None:
        """Forget tokens that have expired anyway (their signature check already fails)."""
        now = now or datetime.now(UTC)
        self._jtis = {j: e for j, e in self._jtis.items() if e > now}
