"""Console: the audit log (who did what, when, from where, how it ended), newest first.

Filters by action prefix, district, part of the actor's name, outcome and date range (whole
UTC days); the reading and its keyset paging are `gateway.control.audit_log.read_audit`,
shared with the admin API.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.control.audit_log import AuditFilter, AuditPage, read_audit
from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import control_db
from gateway.web.pages import render
from gateway.web.params import query_day

OUTCOMES = [("success", "Success"), ("failure", "Failure"), ("denied", "Denied")]
ACTION_PREFIXES = ("district.", "consumer.", "credential.", "outgoing.", "user.", "web.", "token.")


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, UTC) if day else None


def _compact(detail: Any) -> str:
    return json.dumps(detail, separators=(",", ":"), ensure_ascii=False) if detail else ""


def _cursor(query: QueryParams, name: str) -> int | None:
    raw = query.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def parse_filters(query: QueryParams) -> tuple[AuditFilter, dict[str, str]]:
    """The filters from the query string, and a message for each field that is not valid."""
    errors: dict[str, str] = {}
    outcome = query.get("outcome", "") or None
    if outcome and outcome not in dict(OUTCOMES):
        errors["outcome"] = "success, failure or denied"
    since, until = query_day(query, "since", errors), query_day(query, "until", errors)
    filters = AuditFilter(
        action_prefix=query.get("action", "").strip()[:100] or None,
        district=query.get("district", "").strip().upper()[:10] or None,
        actor_contains=query.get("actor", "").strip()[:320] or None,
        outcome=outcome if "outcome" not in errors else None,
        since=_day_start(since),
        until=_day_start(until + timedelta(days=1)) if until else None,  # inclusive, UTC days
    )
    return filters, errors


async def audit_page(request: Request, user: SessionUser) -> Response:
    query = request.query_params
    filters, errors = parse_filters(query)
    result = AuditPage([], None, None)
    if not errors:
        async with control_db(request) as conn:
            found = await read_audit(
                conn, filters, before=_cursor(query, "before"), after=_cursor(query, "after")
            )
        rows = [r | {"detail": _compact(r["detail"])} for r in found.rows]
        result = AuditPage(rows, found.newer, found.older)
    # The pager links keep the filters and swap only the cursor.
    kept = {k: v for k, v in query.items() if k not in ("before", "after") and v}
    return render(
        request,
        "admin/audit.html",
        status=400 if errors else 200,
        page=result,
        values=kept,
        errors=errors,
        outcomes=OUTCOMES,
        prefixes=ACTION_PREFIXES,
    )


def routes() -> list[Route]:
    return [console_page("/admin/audit", audit_page)]
