"""/admin/api/v1/audit: who did what, when, from where, and how it ended; newest first.

The audit log grows with every token request, so the query is built from only the conditions
asked for (each one a fixed fragment with a numbered placeholder, never user text), letting
Postgres use the index that fits: by time, by (action, time) or by (district, time).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

import asyncpg
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin import docs
from gateway.admin import representations as rep
from gateway.admin.endpoint import PREFIX, Call, operator_route
from gateway.admin.output import AdminJSON
from gateway.admin.schemas import Field, integer, moment_field, string
from gateway.control.districts import LEA_CODE
from gateway.errors import ValidationFailed

OUTCOMES = ("success", "failure", "denied")
ACTOR_TYPES = ("operator", "cli", "consumer", "district_user", "system", "anonymous")
MAX_LIMIT = 1000

QUERY = {
    "action": string(100, description="Exactly this action.", example="credential.issue"),
    "district": string(10, description="LEA code of the district concerned.", example="920"),
    "actor": string(
        320,
        description="Who acted: an operator credential's client id, a CLI user, a consumer's "
        "client id, a web user's email.",
    ),
    "actor_type": Field(
        "string",
        enum=ACTOR_TYPES,
        description="operator: the admin API and console; cli: the gateway command; consumer: "
        "the token endpoint (for any client, operator credentials included).",
    ),
    "outcome": Field("string", enum=OUTCOMES),
    "since": string(
        40, description="From this moment (ISO 8601); a date: from the start of that day, UTC."
    ),
    "until": string(40, description="Before this moment; a date: through that day, UTC."),
    "limit": integer(1, MAX_LIMIT, default=100),
    "offset": integer(0, 1_000_000, default=0),
}


@dataclass(frozen=True)
class AuditFilter:
    action: str | None = None
    district: str | None = None
    actor: str | None = None
    actor_type: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 100
    offset: int = 0


# Filter field → SQL condition on its placeholder. Order fixes the placeholder numbers.
_CONDITIONS = {
    "action": "a.action = ${}",
    "district": "a.district_id = (SELECT district_id FROM districts WHERE lea_code = ${})",
    "actor": "a.actor = ${}",
    "actor_type": "a.actor_type = ${}",
    "outcome": "a.outcome = ${}",
    "since": "a.occurred_at >= ${}",
    "until": "a.occurred_at < ${}",
}
_SELECT = (
    "SELECT a.audit_id, a.occurred_at, a.actor_type, a.actor, a.action, a.outcome,"
    " d.lea_code AS district, a.target, host(a.source_addr) AS source_addr, a.request_id,"
    " a.detail FROM audit_log a LEFT JOIN districts d ON d.district_id = a.district_id"
)


# --- pure -----------------------------------------------------------------------------------


def audit_filter(query: Mapping[str, Any]) -> AuditFilter:
    """The checked query string as a filter; 422 naming every bad parameter."""
    clean = dict(query)
    errors: dict[str, str] = {}
    clean["since"] = moment_field(clean, "since", errors)
    clean["until"] = moment_field(clean, "until", errors, end_of_day=True)
    if clean["district"] is not None:
        clean["district"] = clean["district"].strip().upper()
        if not LEA_CODE.match(clean["district"]):
            errors["district"] = "An LEA code: 3 to 10 capital letters or digits"
    if errors:
        raise ValidationFailed(errors)
    return AuditFilter(**{f.name: clean[f.name] for f in fields(AuditFilter)})


def statement(wanted: AuditFilter) -> tuple[str, list[Any]]:
    """(SQL, arguments) for one page of events matching `wanted`."""
    conditions: list[str] = []
    args: list[Any] = []
    for name, template in _CONDITIONS.items():
        value = getattr(wanted, name)
        if value is not None:
            args.append(value)
            conditions.append(template.format(len(args)))
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    args += [wanted.limit, wanted.offset]
    order = (
        f" ORDER BY a.occurred_at DESC, a.audit_id DESC LIMIT ${len(args) - 1} OFFSET ${len(args)}"
    )
    return _SELECT + where + order, args


def event(row: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(row)
    detail = shown["detail"]
    shown["detail"] = json.loads(detail) if isinstance(detail, str) else detail
    return shown


def page(rows: list[dict[str, Any]], wanted: AuditFilter) -> dict[str, Any]:
    full = len(rows) == wanted.limit
    return {
        "items": rows,
        "limit": wanted.limit,
        "offset": wanted.offset,
        "next_offset": wanted.offset + wanted.limit if full else None,
    }


# --- I/O ------------------------------------------------------------------------------------


async def search(conn: asyncpg.Connection, wanted: AuditFilter) -> list[dict[str, Any]]:
    sql, args = statement(wanted)
    return [event(r) for r in await conn.fetch(sql, *args)]


async def list_audit(call: Call) -> Response:
    wanted = audit_filter(call.query(QUERY))
    async with call.db() as conn:
        rows = await search(conn, wanted)
    return AdminJSON(page(rows, wanted))


def routes() -> list[Route]:
    return [operator_route("/audit", "GET", list_audit)]


def paths() -> dict[str, Any]:
    return {
        f"{PREFIX}/audit": {
            "get": docs.operation(
                "listAuditEvents",
                "Admin: audit log",
                "Search the audit log, newest first",
                {
                    "200": docs.ok("One page of events.", rep.AUDIT_PAGE, rep.AUDIT_PAGE_EXAMPLE),
                    "422": docs.invalid({"since": "An ISO 8601 date (YYYY-MM-DD) or date-time"}),
                },
                description="Every operator action (console, CLI, this API), every token request "
                "and every sign-in, with who, when, from where and the outcome. Filters combine; "
                "page with limit and offset (next_offset).",
                query=QUERY,
            )
        }
    }


_EXPORT = (
    _SELECT + " WHERE a.audit_id > $1 AND ($2::timestamptz IS NULL OR a.occurred_at >= $2)"
    " ORDER BY a.audit_id"
)


async def export(
    conn: asyncpg.Connection, after_id: int = 0, since: datetime | None = None
) -> AsyncIterator[dict[str, Any]]:
    """Every event after `after_id` (and from `since`), oldest first, read with a cursor so
    that a year of events streams in constant memory (`gateway audit export`)."""
    async with conn.transaction(readonly=True):
        async for row in conn.cursor(_EXPORT, after_id, since, prefetch=500):
            yield event(row)
