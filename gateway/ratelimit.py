"""Token-bucket rate limits, per key, shared by every worker and host through Postgres.

A bucket held in one worker's memory lets N workers (or N replicas) allow N times the
configured rate, so the buckets live in the control database (`rate_buckets`) and one
statement refills and takes: the row lock serialises concurrent takes, so two workers can
never both spend the last token, and the database's clock is the one clock every host shares.

Asking the database for every token cost the token endpoint a write (and its commit) per
request, most of the database's work under load (issue 16). So a take withdraws a small
*lease*: up to `lease` tokens at once (a quarter of a second of the rate, at most a quarter of
the burst; 1 when the rate is slow, which is then exactly the one-token-per-request bucket).
The worker spends the rest of its lease from memory for at most `LEASE_TTL_SECONDS`, then
drops what is left (lost tokens only ever err on the strict side). Every token spent was
withdrawn from the shared bucket, so the sustained rate across all workers is never more than
the configured one; what leases change is the burst, which can reach the configured burst plus
one lease per worker (at most a quarter of the burst each), when leases taken earlier are spent
together with a bucket that has refilled meanwhile. The time to live is long enough that a
gateway serving hundreds of clients still asks the database once per lease, not per request.
"""

from __future__ import annotations

import math
import time

import asyncpg

from gateway.turns import KeyedTurns

# Refill (rate x elapsed, capped at the burst) and take up to $5 whole tokens, at least one
# when there is one, atomically. A new key starts with a full bucket, less what this call takes.
_TAKE = """
INSERT INTO rate_buckets AS b (scope, key, tokens, granted, taken)
VALUES ($1, $2, $4::float8 - least($5::float8, floor($4::float8)), true,
        least($5::float8, floor($4::float8))::integer)
ON CONFLICT (scope, key) DO UPDATE SET (tokens, granted, taken, refilled_at) = (
    SELECT f.tokens - g.n, g.n > 0, g.n::integer, f.now
    FROM (
        SELECT c.now,
               least($4::float8, b.tokens + greatest(0, extract(epoch FROM c.now - b.refilled_at)::float8) * $3::float8) AS tokens
        FROM (SELECT clock_timestamp() AS now) c
    ) f
    CROSS JOIN LATERAL (
        SELECT CASE WHEN f.tokens >= 1 THEN least($5::float8, floor(f.tokens)) ELSE 0 END AS n
    ) g
)
RETURNING tokens, taken
"""

# A bucket untouched for longer than it takes to refill completely behaves like a new one.
_PURGE = (
    "DELETE FROM rate_buckets WHERE scope = $1"
    " AND refilled_at < clock_timestamp() - make_interval(secs => $2)"
)

_MAX_KEY = 300  # the column's CHECK; client ids are far shorter
LEASE_SECONDS = 0.25  # how much of the rate one lease holds
LEASE_TTL_SECONDS = 10.0  # how long a worker may spend it
_MAX_LEASES = 50_000  # leases remembered at once (every credential of 20,000 districts fits)


def lease_size(rate_per_second: float, burst: int) -> int:
    """Tokens one take withdraws: a quarter second of the rate, a quarter of the burst at
    most, and at least one (pure)."""
    return max(1, math.floor(min(rate_per_second * LEASE_SECONDS, burst / 4)))


class RateLimiter:
    """`take(key)` answers 0 when allowed, else the seconds to wait (for Retry-After)."""

    def __init__(self, pool: asyncpg.Pool, scope: str, rate_per_second: float, burst: int) -> None:
        self._pool = pool
        self.scope = scope
        self.rate = rate_per_second
        self.burst = float(burst)
        self.lease = lease_size(rate_per_second, burst)
        # key -> [tokens left, monotonic deadline]: this worker's unspent leases.
        self._leases: dict[str, list[float]] = {}
        # One withdrawal per key at a time in this worker, so that concurrent requests of one
        # client share a lease instead of each taking one.
        self._turns = KeyedTurns()

    def _spend(self, key: str) -> bool:
        held = self._leases.get(key)
        if held is None:
            return False
        if held[1] > time.monotonic() and held[0] >= 1:
            held[0] -= 1
            return True
        del self._leases[key]
        return False

    async def take(self, key: str) -> int:
        if self.rate <= 0:
            return 0
        key = key[:_MAX_KEY]
        if self._spend(key):
            return 0
        async with self._turns.turn(key):
            if self._spend(key):  # the caller before us withdrew a lease
                return 0
            return await self._withdraw(key)

    async def _withdraw(self, key: str) -> int:
        row = await self._pool.fetchrow(
            _TAKE, self.scope, key, self.rate, self.burst, float(self.lease)
        )
        taken = int(row["taken"])
        if taken > 0:
            if taken > 1:
                self._keep(key, taken - 1)
            return 0
        return max(1, math.ceil((1.0 - float(row["tokens"])) / self.rate))

    def _keep(self, key: str, tokens: int) -> None:
        if len(self._leases) >= _MAX_LEASES:
            self._drop_expired()
            if len(self._leases) >= _MAX_LEASES:
                del self._leases[next(iter(self._leases))]  # the oldest; errs strict
        self._leases[key] = [float(tokens), time.monotonic() + LEASE_TTL_SECONDS]

    def _drop_expired(self) -> None:
        now = time.monotonic()
        for key in [k for k, (_, deadline) in self._leases.items() if deadline <= now]:
            del self._leases[key]

    async def purge(self) -> int:
        """Forget buckets that have refilled completely; returns how many."""
        if self.rate <= 0:
            return 0
        self._drop_expired()
        status: str = await self._pool.execute(_PURGE, self.scope, self.burst / self.rate)
        return int(status.split()[-1])
