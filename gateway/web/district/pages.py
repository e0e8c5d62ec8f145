"""The districts' read-only pages at /districts/{lea}/...

* Electronic Release Setup: outgoing and incoming connections, each row opening its details,
  and when the district's records were last refreshed (loaded from its SIS) and how many
  students they hold.
* Disclosures: the FERPA record of disclosures, filtered, paged, and exported as CSV.
* Batch reports: the district's batch releases, each with its eTranscript Batch Report (and
  its lines as CSV); another district's batch is a 404 like one that does not exist.

Every route is GET: the department maintains the setup, districts only look at it. District
users see their own district and nothing else (`endpoint.district_page` applies the guard: any other district is a 404);
operators may open any district, for support. Writes by district users never get this far:
`ReadOnlyForDistricts` answers them 403 app-wide.
"""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import BaseRoute

from gateway.audit import Actor, AuditEvent
from gateway.outgoing.report import list_batches, load_report
from gateway.request_context import client_address, services
from gateway.web.auth import SessionUser
from gateway.web.district import batches as batch_views
from gateway.web.district import disclosures as log
from gateway.web.district import setup as setup
from gateway.web.district.endpoint import district_page
from gateway.web.pages import redirect, render
from tenants.directory import District
from tenants.loading.replace import data_status
from tenants.transaction import tenant_transaction


def _base_url(request: Request) -> str:
    return services(request).settings.base_url


async def district_home(request: Request, user: SessionUser, district: District) -> Response:
    return redirect(f"/districts/{district.lea_code}/setup")


async def setup_page(request: Request, user: SessionUser, district: District) -> Response:
    lea = district.lea_code
    async with services(request).stores.control.acquire() as conn:
        outgoing = await setup.outgoing_list(conn, lea)
        incoming = await setup.incoming_list(conn, _base_url(request), lea)
    async with tenant_transaction(services(request).stores, district, readonly=True) as tx:
        status = await data_status(tx)
    return render(
        request,
        "district/setup.html",
        district=district,
        section="setup",
        outgoing=outgoing,
        incoming=incoming,
        data_status=status,
    )


async def outgoing_page(request: Request, user: SessionUser, district: District) -> Response:
    async with services(request).stores.control.acquire() as conn:
        connection = await setup.outgoing_one(
            conn, district.lea_code, request.path_params["connection_id"]
        )
    return render(
        request, "district/outgoing.html", district=district, section="setup", item=connection
    )


async def incoming_page(request: Request, user: SessionUser, district: District) -> Response:
    async with services(request).stores.control.acquire() as conn:
        credential = await setup.incoming_one(
            conn, _base_url(request), district.lea_code, request.path_params["client_id"]
        )
    return render(
        request, "district/incoming.html", district=district, section="setup", item=credential
    )


async def disclosures_page(request: Request, user: SessionUser, district: District) -> Response:
    filters = log.parse_filters(request.query_params)
    if filters.errors:
        return _disclosures(request, district, filters, None, status=400)
    if request.query_params.get("format") == "csv":
        return _csv_export(request, user, district, filters)
    listing = await log.read_page(services(request).stores, district, filters)
    return _disclosures(request, district, filters, listing)


def _disclosures(
    request: Request,
    district: District,
    filters: log.Filters,
    listing: log.Listing | None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "district/disclosures.html",
        status=status,
        district=district,
        section="disclosures",
        filters=filters,
        listing=listing,
    )


def _viewer(request: Request, user: SessionUser) -> Actor:
    web_user = user.web_user
    return Actor(
        "operator" if web_user.is_operator else "district_user",
        web_user.email,
        client_address(request),
        request.state.request_id,
    )


def _csv_export(
    request: Request, user: SessionUser, district: District, filters: log.Filters
) -> Response:
    svc = services(request)
    started = datetime.now(UTC)
    # Who exported which district's log, and whether it was filtered; never the student id.
    svc.audit.add(
        AuditEvent(
            _viewer(request, user),
            "web.disclosures_export",
            district_id=district.id,
            detail={"filtered": filters.active},
        )
    )
    rows = log.csv_export(svc.stores, district, log.export_window(filters, started))
    filename = log.csv_filename(district.lea_code, started)
    return StreamingResponse(
        (chunk.encode() async for chunk in rows),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )


async def batches_page(request: Request, user: SessionUser, district: District) -> Response:
    async with services(request).stores.control.acquire() as conn:
        rows = await list_batches(conn, district_id=district.id)
    return render(
        request,
        "district/batches.html",
        district=district,
        section="batches",
        batches=rows,
        labels=batch_views.STATUS_LABELS,
    )


async def batch_page(request: Request, user: SessionUser, district: District) -> Response:
    """One batch's report (HTML, `?format=csv`, or `?format=json` for the progress poll);
    only a batch of this district: any other is NotFound."""
    batch_id = batch_views.parse_batch_id(request.path_params["batch_id"])
    async with services(request).stores.control.acquire() as conn:
        report = await load_report(conn, batch_id, district_id=district.id)
    answer = request.query_params.get("format")
    if answer == "json":
        return batch_views.progress_response(report)
    if answer == "csv":
        event = batch_views.export_event(_viewer(request, user), district.id, report)
        services(request).audit.add(event)
        return batch_views.csv_response(report)
    return render(
        request,
        "district/batch.html",
        district=district,
        section="batches",
        report=report,
        selection=batch_views.selection_text(report.selection),
        page=batch_views.line_page(
            report, batch_views.page_number(request.query_params.get("page"))
        ),
        labels=batch_views.STATUS_LABELS,
    )


def routes() -> list[BaseRoute]:
    return [
        district_page("/districts/{lea}", district_home),
        district_page("/districts/{lea}/setup", setup_page),
        district_page("/districts/{lea}/setup/outgoing/{connection_id}", outgoing_page),
        district_page("/districts/{lea}/setup/incoming/{client_id}", incoming_page),
        district_page("/districts/{lea}/disclosures", disclosures_page),
        district_page("/districts/{lea}/batches", batches_page),
        district_page("/districts/{lea}/batches/{batch_id}", batch_page),
    ]
