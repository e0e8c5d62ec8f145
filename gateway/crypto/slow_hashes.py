"""Slow hash verifications (argon2id) off the event loop, a bounded number at once.

An argon2id check takes tens of milliseconds of CPU and up to 64 MiB: run on the event loop it
stalls every other request, and run without a bound a burst of wrong secrets takes the memory
and the cores. So each check runs in a thread, at most `concurrency` at once; up to `queue`
more may wait, and past that the caller is told to come back later (503) instead of queueing
without end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from gateway.errors import ServiceUnavailable

T = TypeVar("T")


class SlowHashes:
    def __init__(self, concurrency: int = 2, queue: int = 32) -> None:
        self._running = asyncio.Semaphore(concurrency)
        self._limit = concurrency + queue
        self._admitted = 0

    @property
    def admitted(self) -> int:
        """Checks running or waiting now."""
        return self._admitted

    async def run(self, check: Callable[..., T], *args: object) -> T:
        """`check(*args)` in a worker thread, once a slot is free."""
        if self._admitted >= self._limit:
            raise ServiceUnavailable("Too many sign-in checks at once; try again shortly.", retry_after=2)
        self._admitted += 1
        try:
            async with self._running:
                return await asyncio.to_thread(check, *args)
        finally:
            self._admitted -= 1
