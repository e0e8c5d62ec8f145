"""Console: batch releases. Queue one from a district's page (a list of student ids, or a
cohort, through one outgoing connection), follow it on its eTranscript Batch Report, and list
them all, newest first.

`queue_batch` validates, resolves the students through the district's tenant transaction and
audits; this module turns the form into a `BatchRequest` and shows refusals next to their
fields. The report page is `district.batches`' view, the same one districts see.
"""

from __future__ import annotations

import re
from typing import Any
from uuid import UUID

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import vendors
from gateway.errors import Conflict, NotFound, ValidationFailed
from gateway.ferpa import DEFAULT_BASIS, DEFAULT_PURPOSE, LEGAL_BASES
from gateway.outgoing.batches import BatchRequest, queue_batch
from gateway.outgoing.report import list_batches, load_report
from gateway.request_context import services
from gateway.web.auth import SessionUser
from gateway.web.console.districts import district_url
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import actor_for, control_db
from gateway.web.district import batches as views
from gateway.web.pages import field, form, redirect, render
from tenants.directory import District

LIST_LIMIT = 200
LABELS = {
    "selection": "Students",
    "students": "Student ids",
    "cohort_year": "Cohort",
    "purpose": "Purpose",
    "legal_basis": "Legal basis",
}
QUEUED_NOTICE = "Batch queued: the release worker delivers it now."
_SEPARATORS = re.compile(r"[\s,;]+")
_YEAR = re.compile(r"[0-9]{1,4}")


def student_ids(text: str) -> tuple[str, ...]:
    """Ids one per line, or separated by commas, semicolons or spaces (as pasted from a
    spreadsheet column or typed by hand)."""
    return tuple(s for s in _SEPARATORS.split(text) if s)


def release_request(data: FormData) -> BatchRequest:
    """The posted form as a request; blank purpose and legal basis mean the defaults."""
    cohort = field(data, "cohort_year").strip()
    if cohort and not _YEAR.fullmatch(cohort):
        raise ValidationFailed({"cohort_year": "A graduation year, e.g. 2026"})
    return BatchRequest(
        connection=field(data, "connection"),
        student_ids=student_ids(field(data, "students")),
        cohort_year=int(cohort) if cohort else None,
        purpose=field(data, "purpose").strip() or DEFAULT_PURPOSE,
        legal_basis=field(data, "legal_basis") or DEFAULT_BASIS,
    )


async def _district(request: Request) -> District:
    district = await services(request).directory.by_lea(request.path_params["lea"])
    if district is None:
        raise NotFound("No such district.")
    return district


async def _connection(request: Request, district: District, ref: str) -> dict[str, Any]:
    """The district's connection named in the form or URL; anything else is a 404."""
    try:
        connection_id = UUID(ref)
    except ValueError:
        raise NotFound("No such outgoing connection in this district.") from None
    async with control_db(request) as conn:
        row = await vendors.get(conn, connection_id)
    if row["lea_code"] != district.lea_code:
        raise NotFound("No such outgoing connection in this district.")
    return row


def _release_form(
    request: Request,
    district: District,
    connection: dict[str, Any],
    entered: dict[str, str],
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    errors = errors or {}
    return render(
        request,
        "admin/release.html",
        status=status,
        district=district,
        connection=connection,
        base=district_url(district.lea_code),
        legal_bases=list(LEGAL_BASES.items()),
        values=entered,
        errors={name: errors[name] for name in LABELS if name in errors} | errors,
        labels=LABELS,
    )


async def release_page(request: Request, user: SessionUser) -> Response:
    """The form with every choice (purpose, legal basis), for one connection."""
    district = await _district(request)
    connection = await _connection(request, district, request.query_params.get("connection", ""))
    defaults = {"purpose": DEFAULT_PURPOSE, "legal_basis": DEFAULT_BASIS}
    return _release_form(request, district, connection, defaults)


async def release_queue(request: Request, user: SessionUser) -> Response:
    data = await form(request)
    district = await _district(request)
    connection = await _connection(request, district, field(data, "connection"))
    entered = {k: field(data, k) for k in ("students", "cohort_year", "purpose", "legal_basis")}
    try:
        wanted = release_request(data)
        async with control_db(request) as conn:
            batch = await queue_batch(
                conn, services(request).stores, district, wanted, actor_for(request, user)
            )
    except ValidationFailed as exc:
        return _release_form(request, district, connection, entered, exc.errors, 422)
    except Conflict as exc:  # a suspended district releases nothing
        refused = {"selection": exc.detail or exc.title}
        return _release_form(request, district, connection, entered, refused, 409)
    return redirect(f"/admin/batches/{batch['batch_id']}?notice=queued")


async def batch_list(request: Request, user: SessionUser) -> Response:
    lea = request.query_params.get("district", "").strip().upper()[:20]
    async with control_db(request) as conn:
        rows = await list_batches(conn, lea_code=lea or None, limit=LIST_LIMIT)
    return render(
        request,
        "admin/batches.html",
        batches=rows,
        district=lea,
        limit=LIST_LIMIT,
        labels=views.STATUS_LABELS,
    )


async def batch_report(request: Request, user: SessionUser) -> Response:
    """The report (HTML, `?format=csv`, or `?format=json`: the progress app.js polls)."""
    batch_id = views.parse_batch_id(request.path_params["batch_id"])
    async with control_db(request) as conn:
        report = await load_report(conn, batch_id)
    answer = request.query_params.get("format")
    if answer == "json":
        return views.progress_response(report)
    if answer == "csv":
        district = await services(request).directory.by_lea(report.lea_code)
        event = views.export_event(
            actor_for(request, user), district.id if district else None, report
        )
        services(request).audit.add(event)
        return views.csv_response(report)
    number = views.page_number(request.query_params.get("page"))
    return render(
        request,
        "admin/batch.html",
        report=report,
        selection=views.selection_text(report.selection),
        page=views.line_page(report, number),
        labels=views.STATUS_LABELS,
        notice=QUEUED_NOTICE if request.query_params.get("notice") == "queued" else None,
    )


def routes() -> list[Route]:
    return [
        console_page("/admin/districts/{lea}/release", release_page),
        console_page("/admin/districts/{lea}/batches", release_queue, ["POST"]),
        console_page("/admin/batches", batch_list),
        console_page("/admin/batches/{batch_id}", batch_report),
    ]
