"""Change feed: LISTEN on the control database and hand each change to whoever caches it.

Triggers in the control schema send `{"table": ..., "key": ...}` on the `gateway_control`
channel for every change to a cached table. Each worker keeps one listening connection. If
that connection drops, notifications sent meanwhile are lost, so on every (re)connect every
subscriber is told to reload in full; a periodic full reload backs this up.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import structlog

from gateway import tasks

CHANNEL = "gateway_control"

ChangeHandler = Callable[[str], Awaitable[None]]
ResyncHandler = Callable[[], Awaitable[None]]

log = structlog.stdlib.get_logger("gateway.changes")


class ChangeFeed:
    def __init__(self, url: str, *, resync_every: float = 60.0) -> None:
        self._url = url
        self._resync_every = resync_every
        self._handlers: dict[str, list[ChangeHandler]] = {}
        self._resyncs: list[ResyncHandler] = []
        self._task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    def on_change(self, table: str, handler: ChangeHandler) -> None:
        self._handlers.setdefault(table, []).append(handler)

    def on_resync(self, handler: ResyncHandler) -> None:
        self._resyncs.append(handler)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="change-feed")
        # Start-up waits for the first LISTEN so that nothing changed before it goes unseen.
        async with asyncio.timeout(10):
            await self._connected.wait()

    async def stop(self) -> None:
        await tasks.stop(self._task)
        self._task = None

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    def _listener(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        try:
            message = json.loads(payload)
            self._queue.put_nowait((str(message["table"]), str(message["key"])))
        except (ValueError, KeyError, TypeError):
            log.warning("change_feed_bad_payload")

    async def _resync(self) -> None:
        for handler in self._resyncs:
            await handler()

    async def _dispatch(self) -> None:
        while True:
            table, key = await self._queue.get()
            for handler in self._handlers.get(table, []):
                try:
                    await handler(key)
                except Exception:  # one bad handler must not stop revocations reaching others
                    log.exception("change_handler_failed", table=table)

    async def _run(self) -> None:
        dispatcher = asyncio.create_task(self._dispatch(), name="change-dispatch")
        delay = 0.2
        try:
            while True:
                conn: asyncpg.Connection | None = None
                try:
                    conn = await asyncpg.connect(self._url)
                    lost = asyncio.Event()
                    conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                    await conn.add_listener(CHANNEL, self._listener)
                    await self._resync()
                    self._connected.set()
                    delay = 0.2
                    while not lost.is_set():
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(self._resync_every):
                                await lost.wait()
                        if not lost.is_set():
                            await self._resync()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("change_feed_disconnected", error=type(exc).__name__)
                finally:
                    self._connected.clear()
                    if conn is not None and not conn.is_closed():
                        await conn.close()
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        finally:
            await tasks.stop(dispatcher)
