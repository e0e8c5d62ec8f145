"""Background tasks of a worker (audit buffer, usage tracker, change feed, housekeeping):
started in the app's lifespan, stopped by cancelling them."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def stop(task: asyncio.Task[Any] | None) -> None:
    """Cancel `task` and wait until it has ended; its CancelledError is the expected end."""
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
