"""Console: a district's data. What it holds and when it was refreshed, an upload form for a
new load (a CSV bundle as a zip, or PESC transcripts), the latest loads with their status and
counts, and each load's errors.

The upload is a multipart form (CSRF-checked like every form), bounded at the route; the file
is copied to a temporary file and loaded in the background (`tenants.loading.uploads`), and the
browser is sent to the load's page, which reloads itself until the load has finished.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import UUID

from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import district_loads
from gateway.errors import BadRequest, NotFound
from gateway.request_context import services
from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import actor_for, control_db, segment
from gateway.web.pages import field, form, redirect, render
from tenants.directory import District
from tenants.loading import LoadRequest
from tenants.loading.columns import TABLES
from tenants.loading.replace import data_status, unlisted_students
from tenants.loading.uploads import UPLOAD_LIMIT, begin, save_upload
from tenants.transaction import tenant_transaction

MODES = [
    ("snapshot", "Snapshot: the district's students as of now"),
    ("merge", "Merge: replace only the students in the file"),
]
_CHUNK = 1024 * 1024


def data_url(lea_code: str) -> str:
    return f"/admin/districts/{segment(lea_code)}/data"


async def _district(request: Request) -> District:
    district = await services(request).directory.by_lea(request.path_params["lea"].upper())
    if district is None:
        raise NotFound()
    return district


async def data_page(request: Request, user: SessionUser) -> Response:
    district = await _district(request)
    async with tenant_transaction(services(request).stores, district, readonly=True) as tx:
        status = await data_status(tx)
        unlisted = await unlisted_students(tx, limit=20)
    async with control_db(request) as conn:
        loads = await district_loads.recent(conn, district.id)
    return render(
        request,
        "admin/district_data.html",
        district=district,
        data_status=status,
        unlisted=unlisted,
        loads=loads,
        modes=MODES,
        base=data_url(district.lea_code),
        limit_mib=UPLOAD_LIMIT // 1024**2,
    )


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(_CHUNK):
        yield chunk


async def _saved(data: FormData) -> tuple[Path, str, str]:
    """(temporary copy of the uploaded file, its name, the mode), or 400."""
    file = data.get("file")
    if not isinstance(file, UploadFile) or not file.filename:
        raise BadRequest("Choose a file to load.")
    name = file.filename.rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200] or "upload"
    suffix = next((s for s in (".zip", ".xml") if name.lower().endswith(s)), None)
    if suffix is None:
        raise BadRequest(
            "Upload a .zip (a CSV bundle, or PESC transcripts) or one .xml transcript."
        )
    mode = field(data, "mode")
    if mode not in ("snapshot", "merge"):
        raise BadRequest("Choose snapshot or merge.")
    return await save_upload(_chunks(file), suffix), name, mode


async def upload(request: Request, user: SessionUser) -> Response:
    district = await _district(request)
    data = await form(request, files=1)
    try:
        path, name, mode = await _saved(data)
    finally:
        await data.close()  # the spooled upload: copied, or refused
    request_ = LoadRequest(
        path, None, merge=mode == "merge", dry_run=field(data, "dry_run") == "on", source_name=name
    )
    try:
        svc = services(request)
        load_id = await begin(svc.stores, svc.loads, district, request_, actor_for(request, user))
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return redirect(f"{data_url(district.lea_code)}/{load_id}")


async def load_page(request: Request, user: SessionUser) -> Response:
    district = await _district(request)
    try:
        load_id = UUID(request.path_params["load_id"])
    except ValueError:
        raise NotFound() from None
    async with control_db(request) as conn:
        load = await district_loads.get(conn, district.id, load_id)
    if load is None:
        raise NotFound()
    return render(
        request,
        "admin/district_load.html",
        district=district,
        load=load,
        tables=[t.name for t in TABLES],  # in the bundle's order, not the JSON's
        base=data_url(district.lea_code),
    )


def routes() -> list[Route]:
    return [
        console_page("/admin/districts/{lea}/data", data_page),
        console_page("/admin/districts/{lea}/data", upload, ["POST"], max_body_size=UPLOAD_LIMIT),
        console_page("/admin/districts/{lea}/data/{load_id}", load_page),
    ]
