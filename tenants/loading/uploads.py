"""District data uploads (admin API and console): the body to a temporary file, then the load
in the background.

The body is streamed to disk chunk by chunk (never held in memory) and bounded at
`UPLOAD_LIMIT` by the route (413 past it). The load is recorded as running before the answer
(202 with its id) and runs on in this process; a client polls the load for its outcome. If the
process stops mid-load the transaction is rolled back with the connection, so the data is
untouched, and housekeeping records the load as failed (interrupted) once it finds that its
holder is gone (gateway.control.district_loads).
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
from tenants.directory import District
from tenants.loading import LoadRequest, load_district, start_load
from tenants.loading.load import Started
from tenants.stores import StoreRegistry

log = structlog.stdlib.get_logger("gateway.loads")

UPLOAD_LIMIT: Final = 1024**3  # 1 GiB: a large district's zipped bundle is tens of MiB
SUFFIXES: Final = {
    "application/zip": ".zip",
    "application/x-zip-compressed": ".zip",
    "application/xml": ".xml",
    "text/xml": ".xml",
}
_RUNNING: set[asyncio.Task[None]] = set()


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


async def begin(
    stores: StoreRegistry, district: District, request: LoadRequest, actor: Actor
) -> UUID:
    """Record the load and run it in the background; returns its id at once."""
    started = await start_load(stores, district, request, actor)
    task = asyncio.create_task(_run(stores, district, request, actor, started))
    _RUNNING.add(task)
    task.add_done_callback(_RUNNING.discard)
    return started.load_id


async def _run(
    stores: StoreRegistry, district: District, request: LoadRequest, actor: Actor, started: Started
) -> None:
    load_id = started.load_id
    try:
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
    finally:
        with contextlib.suppress(OSError):
            request.path.unlink(missing_ok=True)


async def wait_all() -> None:
    """Wait for the loads running in this process (tests; an orderly shutdown)."""
    while _RUNNING:
        await asyncio.gather(*list(_RUNNING), return_exceptions=True)
