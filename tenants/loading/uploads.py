"""District data uploads (admin API and console): the body to a temporary file, then the load
in the background.

The body is streamed to disk chunk by chunk (never held in memory) and bounded at
`UPLOAD_LIMIT` by the route (413 past it). The load is recorded as running before the answer
(202 with its id) and runs on in this process; a client polls the load for its outcome. If the
process stops mid-load the transaction is rolled back with the connection, so the data is
untouched, and housekeeping records the load as failed (interrupted) once it finds that its
holder is gone (gateway.control.district_loads).

`load_slots` bounds the loads of a process (a `gateway.offload.Offload`): a few apply at once
(each holds a connection of the district's store for its transaction, and a core while it
validates), a few more wait their turn, recorded as running; past that an upload is answered
503 with Retry-After before anything is recorded. Without it, a script uploading every district at once took every
pooled connection, and the gateway answered nobody else until the loads were done.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final
from uuid import UUID

import structlog

from gateway.audit import Actor
from gateway.errors import BadRequest, UnsupportedMediaType
from gateway.offload import Offload
from tenants.directory import District
from tenants.loading import LoadRequest, load_district, start_load
from tenants.loading.load import Started, abandon
from tenants.stores import StoreRegistry

log = structlog.stdlib.get_logger("gateway.loads")

UPLOAD_LIMIT: Final = 1024**3  # 1 GiB: a large district's zipped bundle is tens of MiB
SUFFIXES: Final = {
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/xml": ".xml",
    "text/xml": ".xml",
}
_RUNNING: set[asyncio.Future[None]] = set()


def suffix_for(content_type: str | None) -> str:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    suffix = SUFFIXES.get(media)
    if suffix is None:
        raise UnsupportedMediaType(
            "Send a CSV bundle as application/zip, or a PESC transcript (or a zip of them) as "
            "application/xml or application/zip."
        )
    return suffix


async def save_upload(chunks: AsyncIterator[bytes], suffix: str) -> Path:
    """The body in a new temporary file (the caller's to delete); 400 when empty."""
    handle, name = tempfile.mkstemp(prefix="gateway-upload-", suffix=suffix)
    path = Path(name)
    size = 0
    try:
        with os.fdopen(handle, "wb") as stream:
            async for chunk in chunks:
                size += len(chunk)
                await asyncio.to_thread(stream.write, chunk)
        if size == 0:
            raise BadRequest("The body is empty: send the bundle or transcript as the body.")
    except BaseException:
        os.unlink(path)  # a failed or refused upload leaves nothing behind
        raise
    return path


def load_slots(concurrency: int, queue: int) -> Offload:
    """The bound on one process's loads (see above)."""
    return Offload(
        concurrency,
        queue,
        "Too many district loads at once; try again when one has finished.",
        retry_after=30,
    )


async def begin(
    stores: StoreRegistry,
    slots: Offload,
    district: District,
    request: LoadRequest,
    actor: Actor,
) -> UUID:
    """Record the load and run it in the background, when its turn comes; returns its id at
    once. ServiceUnavailable, with nothing recorded, when too many are running or waiting."""
    slots.admit()
    try:
        started = await start_load(stores, district, request, actor)
    except BaseException:
        slots.leave()
        raise
    began: list[bool] = []  # set once the load has its turn (then load_district finishes it)
    task = asyncio.create_task(_run(stores, slots, district, request, actor, started, began))
    _RUNNING.add(task)

    def done(_: asyncio.Task[None]) -> None:
        # Here, not in the task: a task cancelled before it first ran runs none of its code.
        _RUNNING.discard(task)
        slots.leave()
        with contextlib.suppress(OSError):
            request.path.unlink(missing_ok=True)
        if not began:  # cancelled while waiting (shutdown): nothing finished it
            _keep(asyncio.ensure_future(abandon(started, district, actor)))

    task.add_done_callback(done)
    return started.load_id


def _keep(task: asyncio.Future[None]) -> None:
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)


async def _run(
    stores: StoreRegistry,
    slots: Offload,
    district: District,
    request: LoadRequest,
    actor: Actor,
    started: Started,
    began: list[bool],
) -> None:
    load_id = started.load_id
    try:
        async with slots.turn():
            began.append(True)
            result = await load_district(stores, district, request, actor, started=started)
        log.info(
            "district_load",
            load_id=str(load_id),
            district=district.lea_code,
            status=result.status,
            errors=result.problems.count,
        )
    except Exception:
        log.exception("district_load_crashed", load_id=str(load_id))


async def wait_all() -> None:
    """Wait for the loads running in this process (tests; an orderly shutdown)."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)
