"""Lockout after repeated failed authentication, shared by every worker.

Failures are counted in the control database per (subject, source address) and per source
address. Past the threshold, that pair (or that address) is locked for a while: the caller
answers as for a wrong secret without checking the secret at all. A lock on (client, address)
does not touch the same client from another address, so an attacker cannot lock a legitimate
consumer out; an address that fails against many subjects is locked as a whole.

Checking a lock costs no round trip: every worker keeps the current locks in memory, told of
new ones by the change feed (the lock trigger), and learns of its own from the upsert.

Check and count are one step (issue 12: forty concurrent wrong secrets were all checked, none
refused, because each was checked before any was counted). Callers take `turn(address)` around
check, verification and count, so that within a worker the attempts from one address take
turns: the attempt after the threshold-th failure sees the lock. The turn holds no database
connection while it waits, and the success path inside it costs no round trip.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from gateway.turns import KeyedTurns

log = structlog.stdlib.get_logger("gateway.security")

_RECORD = """
INSERT INTO auth_failures AS f (scope, key, failures, window_started)
SELECT s, k, 1, now() FROM unnest($1::text[], $2::text[]) AS t(s, k)
ON CONFLICT (scope, key) DO UPDATE SET
    failures = CASE WHEN f.window_started < now() - $3::interval THEN 1 ELSE f.failures + 1 END,
    window_started = CASE WHEN f.window_started < now() - $3::interval THEN now() ELSE f.window_started END
RETURNING scope, key, failures, locked_until
"""
_LOCK = "UPDATE auth_failures SET locked_until = now() + $3::interval WHERE scope = $1 AND key = $2 RETURNING locked_until"
_CLEAR = "DELETE FROM auth_failures WHERE scope = $1 AND key = $2"
_LOAD = "SELECT scope, key, locked_until FROM auth_failures WHERE locked_until > now()"
_ONE = "SELECT locked_until FROM auth_failures WHERE scope = $1 AND key = $2"


@dataclass(frozen=True)
class LockoutPolicy:
    subject_scope: str  # e.g. client_addr, login_addr
    address_scope: str  # e.g. addr, login_any
    threshold: int
    address_threshold: int
    window: timedelta
    duration: timedelta


class Lockout:
    def __init__(self, pool: asyncpg.Pool, policy: LockoutPolicy) -> None:
        self._pool = pool
        self.policy = policy
        self._locks: dict[tuple[str, str], datetime] = {}
        self._failing: set[tuple[str, str]] = set()
        self._turns = KeyedTurns()

    def turn(self, address: str) -> AbstractAsyncContextManager[None]:
        """Attempts from one address, one at a time: check the lock, verify, count, inside."""
        return self._turns.turn(address)

    def _keys(self, subject: str, address: str) -> list[tuple[str, str]]:
        return [
            (self.policy.subject_scope, f"{subject}|{address}"),
            (self.policy.address_scope, address),
        ]

    def locked_for(self, subject: str, address: str, now: datetime | None = None) -> int:
        """Seconds until this subject may try again from this address (0: not locked)."""
        now = now or datetime.now(UTC)
        remaining = 0.0
        for key in self._keys(subject, address):
            until = self._locks.get(key)
            if until is not None:
                if until > now:
                    remaining = max(remaining, (until - now).total_seconds())
                else:
                    self._locks.pop(key, None)
        return int(remaining + 0.999)

    async def failure(self, subject: str, address: str) -> bool:
        """Count a failure; returns True when this failure locked the subject or the address."""
        keys = self._keys(subject, address)
        thresholds = {
            self.policy.subject_scope: self.policy.threshold,
            self.policy.address_scope: self.policy.address_threshold,
        }
        locked_now = False
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                _RECORD, [k[0] for k in keys], [k[1] for k in keys], self.policy.window
            )
            for row in rows:
                key = (row["scope"], row["key"])
                self._failing.add(key)
                if row["failures"] >= thresholds[row["scope"]] and not _active(row["locked_until"]):
                    until = await conn.fetchval(_LOCK, key[0], key[1], self.policy.duration)
                    self._locks[key] = until
                    locked_now = True
                    log.warning(
                        "security_event",
                        kind="lockout",
                        scope=key[0],
                        subject=subject,
                        source_addr=address,
                        failures=row["failures"],
                    )
        return locked_now

    async def success(self, subject: str, address: str) -> None:
        """A correct secret resets that pair's count (only if this worker saw it fail: no round
        trip on the common path)."""
        key = self._keys(subject, address)[0]
        if key in self._failing:
            self._failing.discard(key)
            await self._pool.execute(_CLEAR, *key)

    async def load(self) -> None:
        rows = await self._pool.fetch(_LOAD)
        self._locks = {(r["scope"], r["key"]): r["locked_until"] for r in rows}

    async def refresh(self, notified: str) -> None:
        scope, _, key = notified.partition("|")
        until = await self._pool.fetchval(_ONE, scope, key)
        if until is not None and _active(until):
            self._locks[(scope, key)] = until
        else:
            self._locks.pop((scope, key), None)

    async def purge(self) -> int:
        """Drop counters whose window and lock are both over (keeps the table small)."""
        result = await self._pool.execute(
            "DELETE FROM auth_failures WHERE window_started < now() - $1::interval"
            " AND (locked_until IS NULL OR locked_until < now())",
            self.policy.window,
        )
        return int(result.split()[-1])


def _active(until: datetime | None) -> bool:
    return until is not None and until > datetime.now(UTC)
