"""Token-bucket rate limits, per key, shared by every worker and host through Postgres.

A bucket held in one worker's memory lets N workers (or N replicas) allow N times the
configured rate, so the buckets live in the control database (`rate_buckets`) and one
statement refills and takes: the row lock serialises concurrent takes, so two workers can
never both spend the last token, and the database's clock is the one clock every host shares.
The cost is one round trip per token request, which the token endpoint already pays to audit.
"""

from __future__ import annotations

import math

import asyncpg

# Refill (rate x elapsed, capped at the burst) and take one token if there is one, atomically.
# A new key starts with a full bucket, less the token this call takes.
_TAKE = """
INSERT INTO rate_buckets AS b (scope, key, tokens, granted)
VALUES ($1, $2, $4::float8 - 1, true)
ON CONFLICT (scope, key) DO UPDATE SET (tokens, granted, refilled_at) = (
    SELECT CASE WHEN f.tokens >= 1 THEN f.tokens - 1 ELSE f.tokens END, f.tokens >= 1, f.now
    FROM (
        SELECT c.now,
               least($4::float8, b.tokens + greatest(0, extract(epoch FROM c.now - b.refilled_at)::float8) * $3::float8) AS tokens
        FROM (SELECT clock_timestamp() AS now) c
    ) f
)
RETURNING tokens, granted
"""

# A bucket untouched for longer than it takes to refill completely behaves like a new one.
_PURGE = (
    "DELETE FROM rate_buckets WHERE scope = $1"
    " AND refilled_at < clock_timestamp() - make_interval(secs => $2)"
)

_MAX_KEY = 300  # the column's CHECK; client ids are far shorter


class RateLimiter:
    """`take(key)` answers 0 when allowed, else the seconds to wait (for Retry-After)."""

    def __init__(self, pool: asyncpg.Pool, scope: str, rate_per_second: float, burst: int) -> None:
        self._pool = pool
        self.scope = scope
        self.rate = rate_per_second
        self.burst = float(burst)

    async def take(self, key: str) -> int:
        if self.rate <= 0:
            return 0
        row = await self._pool.fetchrow(_TAKE, self.scope, key[:_MAX_KEY], self.rate, self.burst)
        if row["granted"]:
            return 0
        return max(1, math.ceil((1.0 - float(row["tokens"])) / self.rate))

    async def purge(self) -> int:
        """Forget buckets that have refilled completely; returns how many."""
        if self.rate <= 0:
            return 0
        status: str = await self._pool.execute(_PURGE, self.scope, self.burst / self.rate)
        return int(status.split()[-1])
