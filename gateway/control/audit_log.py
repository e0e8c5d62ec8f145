"""The audit log's one reader: who did what, when, from where, and how it ended; newest first.

Used by the admin API (/admin/api/v1/audit) and the console (/admin/audit); writing is
`gateway.audit`. The log grows with every token request, so

* the query is built from only the conditions asked for (each a fixed fragment with a numbered
  placeholder, never user text), letting Postgres use the index that fits: by time, by
  (action, time) or by (district, time);
* pages are cut with a keyset cursor (an audit id: the page older than it, or newer), never an
  offset, whose scan would grow with the log. (occurred_at, audit_id) orders events fully; the
  cursor row's own values bound the page.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

DEFAULT_LIMIT = 50


@dataclass(frozen=True)
class AuditFilter:
    """Conditions that combine (AND); None: not asked. Times are instants, `until` exclusive."""

    action: str | None = None  # exactly this action
    action_prefix: str | None = None  # "credential." or "credential.revoke" (literal, no wildcards)
    district: str | None = None  # LEA code of the district concerned
    actor: str | None = None  # exactly this actor
    actor_contains: str | None = None  # part of the actor's name, any case
    actor_type: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True)
class AuditPage:
    rows: list[dict[str, Any]]  # `detail` parsed from JSON
    newer: int | None  # cursor for the page of newer events (None: this is the newest)
    older: int | None  # cursor for the page of older events (None: nothing older)


# Filter field → SQL condition on its placeholder. Order fixes the placeholder numbers.
_CONDITIONS = {
    "action": "a.action = ${}",
    "action_prefix": "starts_with(a.action, ${})",
    "district": "a.district_id = (SELECT district_id FROM districts WHERE lea_code = ${})",
    "actor": "a.actor = ${}",
    "actor_contains": "strpos(lower(a.actor), lower(${})) > 0",
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
_CURSOR = "(a.occurred_at, a.audit_id) {} (SELECT occurred_at, audit_id FROM audit_log WHERE audit_id = ${})"


# --- pure -----------------------------------------------------------------------------------


def statement(
    wanted: AuditFilter, *, before: int | None = None, after: int | None = None, limit: int
) -> tuple[str, list[Any]]:
    """(SQL, arguments) for `limit` events matching `wanted`: older than `before`, or (then
    oldest first) newer than `after`."""
    conditions: list[str] = []
    args: list[Any] = []
    for name, template in _CONDITIONS.items():
        value = getattr(wanted, name)
        if value is not None:
            args.append(value)
            conditions.append(template.format(len(args)))
    cursor, direction = (after, "ASC") if after is not None else (before, "DESC")
    if cursor is not None:
        args.append(cursor)
        conditions.append(_CURSOR.format(">" if after is not None else "<", len(args)))
    where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
    args.append(limit)
    order = f" ORDER BY a.occurred_at {direction}, a.audit_id {direction} LIMIT ${len(args)}"
    return _SELECT + where + order, args


def event(row: Any) -> dict[str, Any]:
    shown = dict(row)
    detail = shown["detail"]
    shown["detail"] = json.loads(detail) if isinstance(detail, str) else detail
    return shown


# --- I/O ------------------------------------------------------------------------------------


async def read_audit(
    conn: asyncpg.Connection,
    wanted: AuditFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    limit: int = DEFAULT_LIMIT,
) -> AuditPage:
    """One page of events, newest first: older than `before`, or newer than `after`."""
    sql, args = statement(wanted, before=before, after=after, limit=limit + 1)
    fetched = await conn.fetch(sql, *args)
    if after is not None:
        more_newer, more_older = len(fetched) > limit, True
        found = list(reversed(fetched[:limit]))
    else:
        more_newer, more_older = before is not None, len(fetched) > limit
        found = list(fetched[:limit])
    rows = [event(r) for r in found]
    return AuditPage(
        rows,
        newer=rows[0]["audit_id"] if rows and more_newer else None,
        older=rows[-1]["audit_id"] if rows and more_older else None,
    )


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
