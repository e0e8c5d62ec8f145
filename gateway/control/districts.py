"""Districts: register, list, suspend and resume."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.errors import Conflict, NotFound, ValidationFailed

LEA_CODE = re.compile(r"^[0-9A-Z]{3,10}$")
LEA_PROBLEM = "LEA code: 3 to 10 capital letters or digits, e.g. 920 or 92F"
# What `add` accepts as typed, before it strips and capitalises it (for the API's schema).
LEA_AS_TYPED = r"^\s*[0-9A-Za-z]{3,10}\s*$"
KINDS = ("lea", "charter")
_SELECT = (
    "SELECT district_id, lea_code, name, kind, status, store, created_at, updated_at FROM districts"
)


def validate(lea_code: str, name: str, kind: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not LEA_CODE.match(lea_code):
        errors["lea"] = LEA_PROBLEM
    if not name.strip() or len(name) > 200:
        errors["name"] = "Name is required (at most 200 characters)"
    if kind not in KINDS:
        errors["kind"] = "Kind is lea or charter"
    return errors


async def add(
    conn: asyncpg.Connection, lea_code: str, name: str, kind: str, actor: Actor, store: str = "main"
) -> dict[str, Any]:
    lea_code = lea_code.strip().upper()
    errors = validate(lea_code, name, kind)
    if errors:
        raise ValidationFailed(errors)
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                "INSERT INTO districts (lea_code, name, kind, store) VALUES ($1, $2, $3, $4)"
                " RETURNING district_id, lea_code, name, kind, status, store, created_at, updated_at",
                lea_code,
                name.strip(),
                kind,
                store,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"district {lea_code} already exists") from None
        assert row is not None
        await record(
            conn,
            AuditEvent(
                actor,
                "district.add",
                district_id=row["district_id"],
                target=lea_code,
                detail={"name": name, "kind": kind},
            ),
        )
    return dict(row)


async def list_all(conn: asyncpg.Connection, search: str = "") -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT d.*, (SELECT count(*) FROM credentials c"
        " WHERE c.district_id = d.district_id AND c.status = 'active') AS active_credentials"
        " FROM districts d WHERE $1 = '' OR lea_code ILIKE '%' || $1 || '%'"
        " OR name ILIKE '%' || $1 || '%' ORDER BY lea_code",
        search.strip(),
    )
    return [dict(r) for r in rows]


STATUSES = ("active", "suspended")
# $1 search (LEA code or name, '' for any), $2 status, $3 kind ('' for any); $4/$5 the page.
_COUNT_PAGE = (
    "SELECT count(*) FROM districts d"
    " WHERE ($1 = '' OR d.lea_code ILIKE '%' || $1 || '%' OR d.name ILIKE '%' || $1 || '%')"
    " AND ($2 = '' OR d.status = $2) AND ($3 = '' OR d.kind = $3)"
)
_PAGE = (
    "SELECT d.*, (SELECT count(*) FROM credentials c"
    " WHERE c.district_id = d.district_id AND c.status = 'active') AS active_credentials"
    " FROM districts d"
    " WHERE ($1 = '' OR d.lea_code ILIKE '%' || $1 || '%' OR d.name ILIKE '%' || $1 || '%')"
    " AND ($2 = '' OR d.status = $2) AND ($3 = '' OR d.kind = $3)"
    " ORDER BY d.lea_code LIMIT $4 OFFSET $5"
)


@dataclass(frozen=True)
class DistrictQuery:
    """A page of the district list: search (LEA code or name), status, kind; 1-based page."""

    search: str = ""
    status: str = ""
    kind: str = ""
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class DistrictPage:
    rows: list[dict[str, Any]]
    total: int
    page: int
    pages: int


async def page_of(conn: asyncpg.Connection, query: DistrictQuery) -> DistrictPage:
    """One page of districts by LEA code, with the number matching, for a state's ~300.

    A page past the last is the last page (a bookmark outliving a filter change still shows
    rows); the count and the page come from one snapshot (a REPEATABLE READ transaction)."""
    args = (query.search.strip(), query.status, query.kind)
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        total: int = await conn.fetchval(_COUNT_PAGE, *args)
        pages = max(1, -(-total // query.per_page))
        page = min(max(1, query.page), pages)
        rows = await conn.fetch(_PAGE, *args, query.per_page, (page - 1) * query.per_page)
    return DistrictPage([dict(r) for r in rows], total, page, pages)


async def get(conn: asyncpg.Connection, lea_code: str) -> dict[str, Any]:
    row = await conn.fetchrow(_SELECT + " WHERE lea_code = $1", lea_code.upper())
    if row is None:
        raise NotFound(f"no district {lea_code}")
    return dict(row)


async def set_status(
    conn: asyncpg.Connection, lea_code: str, status: str, actor: Actor
) -> dict[str, Any]:
    """Suspend or resume. A suspended district issues no tokens and serves no transcripts;
    every worker hears of it through the change feed within moments."""
    assert status in ("active", "suspended")
    async with conn.transaction():
        row = await conn.fetchrow(
            "UPDATE districts SET status = $2, updated_at = now() WHERE lea_code = $1"
            " RETURNING district_id, lea_code, name, kind, status, store, created_at, updated_at",
            lea_code.upper(),
            status,
        )
        if row is None:
            raise NotFound(f"no district {lea_code}")
        action = "district.suspend" if status == "suspended" else "district.resume"
        await record(
            conn, AuditEvent(actor, action, district_id=row["district_id"], target=row["lea_code"])
        )
    return dict(row)
