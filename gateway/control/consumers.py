"""Consumers: the organisations (such as CFNC) that receive districts' credentials."""

from __future__ import annotations

from typing import Any

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.errors import Conflict, NotFound, ValidationFailed

_SELECT = "SELECT consumer_id, name, description, status, created_at FROM consumers"


async def add(
    conn: asyncpg.Connection, name: str, actor: Actor, description: str = ""
) -> dict[str, Any]:
    name = name.strip()
    if not name or len(name) > 200:
        raise ValidationFailed({"name": "Name is required (at most 200 characters)"})
    async with conn.transaction():
        try:
            row = await conn.fetchrow(
                "INSERT INTO consumers (name, description) VALUES ($1, $2)"
                " RETURNING consumer_id, name, description, status, created_at",
                name,
                description,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"consumer {name!r} already exists") from None
        assert row is not None
        await record(conn, AuditEvent(actor, "consumer.add", target=name))
    return dict(row)


async def list_all(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT k.consumer_id, k.name, k.description, k.status, k.created_at,"
        " (SELECT count(*) FROM credentials c WHERE c.consumer_id = k.consumer_id"
        " AND c.status = 'active') AS active_credentials FROM consumers k ORDER BY k.name"
    )
    return [dict(r) for r in rows]


async def get_by_name(conn: asyncpg.Connection, name: str) -> dict[str, Any]:
    row = await conn.fetchrow(_SELECT + " WHERE name = $1", name.strip())
    if row is None:
        raise NotFound(f"no consumer named {name!r}")
    return dict(row)


async def get_by_id(conn: asyncpg.Connection, consumer_id: Any) -> dict[str, Any]:
    row = await conn.fetchrow(_SELECT + " WHERE consumer_id = $1", consumer_id)
    if row is None:
        raise NotFound("no such consumer")
    return dict(row)


async def ensure(conn: asyncpg.Connection, name: str, actor: Actor) -> dict[str, Any]:
    """The consumer called `name`, created if missing (used by `gateway dev`)."""
    try:
        return await get_by_name(conn, name)
    except NotFound:
        return await add(conn, name, actor)
