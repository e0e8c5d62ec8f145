"""CPU-heavy work off the event loop, a bounded amount at once.

Two kinds of work would otherwise stall every request of a worker (issue 12): argon2id
verifications (tens of milliseconds and up to 64 MiB each) and parsing plus schema validation
of a TranscriptRequest (up to a second for a large one). Each runs in a thread, at most
`concurrency` at once per kind; up to `queue` more may wait, and past that the caller is told
to come back later (503 with Retry-After) instead of queueing without end. lxml and argon2
release the GIL for their heavy parts, so the event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from gateway.errors import ServiceUnavailable

T = TypeVar("T")


class OffLoop(Protocol):
    """How a repository runs CPU-heavy work (an argon2id hash): `Offload.run` in the server,
    so every such job shares one bound; `in_thread` in the CLI."""

    def __call__(self, job: Callable[..., T], /, *args: object) -> Awaitable[T]: ...


async def in_thread(job: Callable[..., T], *args: object) -> T:
    """Off the loop without a bound: for a CLI command, the only work of its process."""
    return await asyncio.to_thread(job, *args)


class Offload:
    """At most `concurrency` jobs at once, `queue` more waiting, and past that 503 (with
    Retry-After `retry_after` seconds) before anything is started. `run` is the whole of it
    for a job in a thread; `admit`, `turn` and `leave` are its three steps, for work that is
    admitted in a request and runs after it (a district load)."""

    def __init__(self, concurrency: int, queue: int, busy: str, *, retry_after: int = 2) -> None:
        self._running = asyncio.Semaphore(concurrency)
        self._limit = concurrency + queue
        self._admitted = 0
        self._busy = busy
        self._retry_after = retry_after

    @property
    def admitted(self) -> int:
        """Jobs running or waiting now."""
        return self._admitted

    def admit(self) -> None:
        """Count a job in, or refuse it (ServiceUnavailable) when the slots and queue are full."""
        if self._admitted >= self._limit:
            raise ServiceUnavailable(self._busy, retry_after=self._retry_after)
        self._admitted += 1

    def leave(self) -> None:
        """Count an admitted job out (done, failed, or never run)."""
        self._admitted -= 1

    def turn(self) -> asyncio.Semaphore:
        """`async with offload.turn():` while an admitted job runs."""
        return self._running

    async def run(self, job: Callable[..., T], *args: object) -> T:
        """`job(*args)` in a worker thread, once a slot is free."""
        self.admit()
        try:
            async with self._running:
                return await asyncio.to_thread(job, *args)
        finally:
            self.leave()
