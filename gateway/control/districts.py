"""Districts: register, list, suspend and resume."""

from __future__ import annotations

import re
from typing import Any

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.errors import Conflict, NotFound, ValidationFailed

LEA_CODE = re.compile(r"^[0-9A-Z]{3,10}$")
KINDS = ("lea", "charter")
_SELECT = (
    "SELECT district_id, lea_code, name, kind, status, store, created_at, updated_at FROM districts"
)


def validate(lea_code: str, name: str, kind: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not LEA_CODE.match(lea_code):
        errors["lea"] = "LEA code: 3 to 10 capital letters or digits, e.g. 920 or 92F"
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
