"""Console: the districts. List and search, add, and each district's overview with its
incoming connections (credentials) and outgoing connections (vendors), suspend and resume."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control import credentials, districts, vendors
from gateway.errors import BadRequest, Conflict, ValidationFailed
from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.forms import Refused, form_state
from gateway.web.console.request import actor_for, control_db, done, notice, segment, values
from gateway.web.pages import field, form, redirect, render

KINDS = [("lea", "LEA (school district)"), ("charter", "Charter school")]
LABELS = {"lea": "LEA code", "name": "Name", "kind": "Kind"}


STATUSES = [("active", "Active"), ("suspended", "Suspended")]
PER_PAGE = 50


def list_query(params: Mapping[str, str]) -> districts.DistrictQuery:
    """The list's filters from the query string; unknown values mean no filter."""
    status = params.get("status", "")
    kind = params.get("kind", "")
    raw_page = params.get("page", "1")
    return districts.DistrictQuery(
        search=params.get("q", "").strip()[:100],
        status=status if status in districts.STATUSES else "",
        kind=kind if kind in districts.KINDS else "",
        page=int(raw_page) if raw_page.isdigit() and len(raw_page) < 6 else 1,
        per_page=PER_PAGE,
    )


def filter_params(query: districts.DistrictQuery) -> str:
    """The filters as a query string for the pager's links (page left out)."""
    kept = {"q": query.search, "status": query.status, "kind": query.kind}
    return urlencode({k: v for k, v in kept.items() if v})


def district_url(lea_code: str) -> str:
    return f"/admin/districts/{segment(lea_code)}"


async def console_home(request: Request, user: SessionUser) -> Response:
    return redirect("/admin/districts")


async def district_list(request: Request, user: SessionUser) -> Response:
    return await _list_page(request)


async def _list_page(request: Request, refused: Refused | None = None) -> Response:
    query = list_query(request.query_params)
    async with control_db(request) as conn:
        found = await districts.page_of(conn, query)
    return render(
        request,
        "admin/districts.html",
        **form_state(refused, {"kind": "lea"}),
        found=found,
        query=query,
        filters=filter_params(query),
        statuses=STATUSES,
        kinds=KINDS,
        labels=LABELS,
        notice=notice(request),
    )


async def district_add(request: Request, user: SessionUser) -> Response:
    data = await form(request)
    entered = values(data, "lea", "name", "kind")
    entered["lea"] = entered["lea"].strip().upper()
    try:
        async with control_db(request) as conn:
            row = await districts.add(
                conn, entered["lea"], entered["name"], entered["kind"], actor_for(request, user)
            )
    except ValidationFailed as exc:
        return await _list_page(request, Refused(exc.errors, entered))
    except Conflict:
        taken = {"lea": "A district with this LEA code already exists"}
        return await _list_page(request, Refused(taken, entered, 409))
    return done(district_url(row["lea_code"]), "district-added")


async def district_page(request: Request, user: SessionUser) -> Response:
    async with control_db(request) as conn:
        district = await districts.get(conn, request.path_params["lea"])
        incoming = await credentials.list_credentials(conn, district["lea_code"])
        outgoing = await vendors.list_connections(conn, district["lea_code"])
    return render(
        request,
        "admin/district.html",
        district=district,
        incoming=incoming,
        outgoing=outgoing,
        mask=vendors.MASK,
        base=district_url(district["lea_code"]),
        notice=notice(request),
    )


async def district_status(request: Request, user: SessionUser) -> Response:
    """Suspend or resume: the form asks for confirmation first (data-confirm)."""
    data = await form(request)
    status = field(data, "status")
    if status not in ("active", "suspended"):
        raise BadRequest("Choose to suspend or to resume the district.")
    async with control_db(request) as conn:
        row: dict[str, Any] = await districts.set_status(
            conn, request.path_params["lea"], status, actor_for(request, user)
        )
    return done(district_url(row["lea_code"]), f"district-{status}")


def routes() -> list[Route]:
    return [
        console_page("/admin", console_home),
        console_page("/admin/districts", district_list),
        console_page("/admin/districts", district_add, ["POST"]),
        console_page("/admin/districts/{lea}", district_page),
        console_page("/admin/districts/{lea}/status", district_status, ["POST"]),
    ]
