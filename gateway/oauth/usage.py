"""When each credential was last used, written in batches (not once per token)."""

from __future__ import annotations

import asyncio
from collections import Counter
from uuid import UUID

import asyncpg
import structlog

from gateway import tasks

log = structlog.stdlib.get_logger("gateway.oauth")

_UPSERT = """
INSERT INTO credential_usage (credential_id, last_used_at, tokens_issued)
SELECT id, now(), n FROM unnest($1::uuid[], $2::bigint[]) AS t(id, n)
ON CONFLICT (credential_id) DO UPDATE
   SET last_used_at = now(), tokens_issued = credential_usage.tokens_issued + EXCLUDED.tokens_issued
"""


class UsageTracker:
    def __init__(self, pool: asyncpg.Pool, interval: float = 2.0) -> None:
        self._pool = pool
        self._interval = interval
        self._counts: Counter[UUID] = Counter()
        self._task: asyncio.Task[None] | None = None

    def used(self, credential_id: UUID) -> None:
        self._counts[credential_id] += 1

    async def flush(self) -> None:
        counts, self._counts = self._counts, Counter()
        if not counts:
            return
        ids = list(counts)
        try:
            await self._pool.execute(_UPSERT, ids, [counts[i] for i in ids])
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            self._counts.update(counts)
            log.warning("usage_flush_failed", error=type(exc).__name__)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="credential-usage")

    async def stop(self) -> None:
        await tasks.stop(self._task)
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()
