"""Periodic clean-up of what expires: lockout counters, rate-limit buckets that have refilled,
revoked tokens past their expiry, and web sessions past theirs. Every worker runs it; the statements are idempotent, so
running them more than once costs a few milliseconds and changes nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import asyncpg
import structlog

from gateway.lockout import Lockout
from gateway.oauth.revocation import RevokedTokens
from gateway.ratelimit import RateLimiter

log = structlog.stdlib.get_logger("gateway.housekeeping")

# A revoked token stops mattering once its signature check fails anyway (it expired);
# the row is kept a day longer for whoever investigates.
_PURGE_REVOKED = "DELETE FROM revoked_tokens WHERE expires_at < now() - interval '1 day'"
_PURGE_SESSIONS = "DELETE FROM web_sessions WHERE expires_at < now()"


class Housekeeping:
    def __init__(
        self,
        pool: asyncpg.Pool,
        lockout: Lockout,
        revoked: RevokedTokens,
        *,
        rate_limits: Sequence[RateLimiter] = (),
        interval: float = 600.0,
    ) -> None:
        self._pool = pool
        self._lockout = lockout
        self._revoked = revoked
        self._rate_limits = rate_limits
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> dict[str, int]:
        counters = await self._lockout.purge()
        buckets = sum([await limiter.purge() for limiter in self._rate_limits])
        revoked = int((await self._pool.execute(_PURGE_REVOKED)).split()[-1])
        sessions = int((await self._pool.execute(_PURGE_SESSIONS)).split()[-1])
        self._revoked.prune()
        return {
            "lockout_counters": counters,
            "rate_buckets": buckets,
            "revoked_tokens": revoked,
            "sessions": sessions,
        }

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="housekeeping")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                purged = await self.run_once()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("housekeeping_failed", error=type(exc).__name__)
            else:
                if any(purged.values()):
                    log.info("housekeeping", **purged)
