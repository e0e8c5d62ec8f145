"""Console: the audit log (who did what, when, from where, how it ended), newest first.

`read_audit` is the page's one query: filters by action prefix, district, actor, outcome and
date range, and pages with a keyset cursor (an audit id) rather than an offset, because the log
grows with every token request and an offset scan grows with it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.web.auth import SessionUser
from gateway.web.console.endpoint import console_page
from gateway.web.console.request import control_db
from gateway.web.pages import render
from gateway.web.params import query_day

PAGE_SIZE = 50
OUTCOMES = [("success", "Success"), ("failure", "Failure"), ("denied", "Denied")]
ACTION_PREFIXES = ("district.", "consumer.", "credential.", "outgoing.", "user.", "web.", "token.")

_SELECT = """
SELECT a.audit_id, a.occurred_at, a.actor_type, a.actor, a.action, a.outcome,
       d.lea_code AS district, a.target, host(a.source_addr) AS source_addr, a.request_id,
       a.detail::text AS detail
  FROM audit_log a LEFT JOIN districts d ON d.district_id = a.district_id
 WHERE ($1::text IS NULL OR starts_with(a.action, $1))
   AND ($2::text IS NULL OR a.district_id = (SELECT district_id FROM districts WHERE lea_code = $2))
   AND ($3::text IS NULL OR strpos(lower(a.actor), lower($3)) > 0)
   AND ($4::text IS NULL OR a.outcome = $4)
   AND ($5::timestamptz IS NULL OR a.occurred_at >= $5)
   AND ($6::timestamptz IS NULL OR a.occurred_at < $6)
"""
# (occurred_at, audit_id) orders events fully; the cursor row's own values bound the page.
_CURSOR = "(SELECT occurred_at, audit_id FROM audit_log WHERE audit_id = $7)"
_OLDER = (
    _SELECT
    + f" AND ($7::bigint IS NULL OR (a.occurred_at, a.audit_id) < {_CURSOR})"
    + " ORDER BY a.occurred_at DESC, a.audit_id DESC LIMIT $8"
)
_NEWER = (
    _SELECT
    + f" AND (a.occurred_at, a.audit_id) > {_CURSOR}"
    + " ORDER BY a.occurred_at ASC, a.audit_id ASC LIMIT $8"
)


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None  # prefix: "credential." or "credential.revoke"
    district: str | None = None  # LEA code
    actor: str | None = None  # part of the actor's name, any case
    outcome: str | None = None
    since: date | None = None  # inclusive, UTC days
    until: date | None = None  # inclusive

    def params(self) -> tuple[Any, ...]:
        return (
            self.action,
            self.district,
            self.actor,
            self.outcome,
            _day_start(self.since),
            _day_start(self.until + timedelta(days=1)) if self.until else None,
        )


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]
    newer: int | None  # cursor for the page of newer events (None: this is the newest)
    older: int | None  # cursor for the page of older events (None: nothing older)


def _day_start(day: date | None) -> datetime | None:
    return datetime.combine(day, time.min, UTC) if day else None


def _compact(detail: str) -> str:
    parsed = json.loads(detail)
    return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False) if parsed else ""


async def read_audit(
    conn: asyncpg.Connection,
    filters: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = PAGE_SIZE,
) -> AuditPage:
    """One page of events, newest first: older than `before`, or newer than `after`."""
    if after is not None:
        fetched = await conn.fetch(_NEWER, *filters.params(), after, limit + 1)
        more_newer, more_older = len(fetched) > limit, True
        found = list(reversed(fetched[:limit]))
    else:
        fetched = await conn.fetch(_OLDER, *filters.params(), before, limit + 1)
        more_newer, more_older = before is not None, len(fetched) > limit
        found = list(fetched[:limit])
    rows = [dict(r) | {"detail": _compact(r["detail"])} for r in found]
    return AuditPage(
        rows,
        newer=rows[0]["audit_id"] if rows and more_newer else None,
        older=rows[-1]["audit_id"] if rows and more_older else None,
    )


def _cursor(query: QueryParams, name: str) -> int | None:
    raw = query.get(name, "")
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def parse_filters(query: QueryParams) -> tuple[AuditFilter, dict[str, str]]:
    """The filters from the query string, and a message for each field that is not valid."""
    errors: dict[str, str] = {}
    outcome = query.get("outcome", "") or None
    if outcome and outcome not in dict(OUTCOMES):
        errors["outcome"] = "success, failure or denied"
    filters = AuditFilter(
        action=query.get("action", "").strip()[:100] or None,
        district=query.get("district", "").strip().upper()[:10] or None,
        actor=query.get("actor", "").strip()[:320] or None,
        outcome=outcome if "outcome" not in errors else None,
        since=query_day(query, "since", errors),
        until=query_day(query, "until", errors),
    )
    return filters, errors


async def audit_page(request: Request, user: SessionUser) -> Response:
    query = request.query_params
    filters, errors = parse_filters(query)
    result = AuditPage([], None, None)
    if not errors:
        async with control_db(request) as conn:
            result = await read_audit(
                conn, filters, before=_cursor(query, "before"), after=_cursor(query, "after")
            )
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
