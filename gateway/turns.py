"""Callers with the same key take turns, within one worker: an asyncio lock per key, kept only
while someone holds or waits for it (so that memory is bounded by the calls in flight)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedTurns:
    def __init__(self) -> None:
        self._turns: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        """Keys with a call holding or waiting for its turn."""
        return len(self._turns)

    @asynccontextmanager
    async def turn(self, key: str) -> AsyncIterator[None]:
        lock, waiting = self._turns.get(key, (asyncio.Lock(), 0))
        self._turns[key] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._turns[key]
            if waiting <= 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, waiting - 1)
