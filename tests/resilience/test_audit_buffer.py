"""The audit buffer cannot be poisoned (issue 12, finding 2): what Postgres cannot store is made
storable, a row Postgres refuses for any other reason costs only that row (counted and logged),
and every other event of the batch, and of later batches, is written."""

from __future__ import annotations

import json
import uuid

import asyncpg
from starlette.applications import Starlette

from gateway.audit import Actor, AuditBuffer, AuditEvent
from gateway.metrics import AUDIT_DROPPED
from tests.secrets_seen import captured


def dropped(reason: str) -> float:
    return AUDIT_DROPPED.labels(reason)._value.get()  # type: ignore[attr-defined,no-any-return]


def event(request_id: str, actor_type: str = "consumer", **fields: object) -> AuditEvent:
    actor = Actor(actor_type, str(fields.pop("actor", "client-x")), "203.0.113.9", request_id)
    return AuditEvent(actor, "token.issue", "failure", **fields)  # type: ignore[arg-type]


async def written(owner_conn: asyncpg.Connection, prefix: str) -> list[asyncpg.Record]:
    return list(
        await owner_conn.fetch(
            "SELECT request_id, actor, target, detail FROM audit_log WHERE request_id LIKE $1"
            " ORDER BY request_id",
            prefix + "%",
        )
    )


async def test_a_refused_row_costs_only_itself_and_is_counted(
    gateway_app: Starlette, owner_conn: asyncpg.Connection
) -> None:
    prefix = f"poison-{uuid.uuid4().hex[:8]}-"
    buffer = AuditBuffer(gateway_app.state.services.stores.control)
    before, mark = dropped("refused"), len(captured())
    for i in range(5):
        # Row 2 breaks the actor_type CHECK: Postgres refuses it, whatever we sanitise.
        buffer.add(event(f"{prefix}{i}", "nobody" if i == 2 else "consumer"))
    await buffer.flush()
    rows = await written(owner_conn, prefix)
    assert [r["request_id"] for r in rows] == [f"{prefix}{i}" for i in (0, 1, 3, 4)]
    assert dropped("refused") == before + 1
    assert "audit_events_dropped" in captured()[mark:]
    # Nothing is left queued to fail again: the next flush writes the next event.
    buffer.add(event(f"{prefix}5"))
    await buffer.flush()
    assert len(await written(owner_conn, prefix)) == 5


async def test_nul_and_lone_surrogates_are_stored_replaced(
    gateway_app: Starlette, owner_conn: asyncpg.Connection
) -> None:
    prefix = f"nul-{uuid.uuid4().hex[:8]}-"
    buffer = AuditBuffer(gateway_app.state.services.stores.control)
    before = dropped("refused")
    buffer.add(
        event(
            f"{prefix}0",
            actor="a\x00b",
            target="c\ud800d" + "x" * 2000,
            detail={"k\x00": ["v\x00", {"n": "\udfff"}]},
        )
    )
    buffer.add(event(f"{prefix}1"))
    await buffer.flush()
    rows = await written(owner_conn, prefix)
    assert len(rows) == 2 and dropped("refused") == before
    first = rows[0]
    assert first["actor"] == "a\ufffdb"
    assert first["target"].startswith("c\ufffdd") and len(first["target"]) <= 513
    assert json.loads(first["detail"]) == {"k\ufffd": ["v\ufffd", {"n": "\ufffd"}]}


async def test_events_wait_while_the_database_is_away(
    gateway_app: Starlette, owner_conn: asyncpg.Connection
) -> None:
    """A pool that cannot connect keeps the batch; the next flush on a good pool writes it."""
    prefix = f"away-{uuid.uuid4().hex[:8]}-"
    dead = await asyncpg.create_pool(
        "postgresql://nobody@127.0.0.1:9/none", min_size=0, max_size=1, timeout=1
    )
    buffer = AuditBuffer(dead)
    buffer.add(event(f"{prefix}0"))
    await buffer.flush()
    assert buffer._pending, "the event must be kept for the next flush"
    buffer._pool = gateway_app.state.services.stores.control
    await buffer.flush()
    assert len(await written(owner_conn, prefix)) == 1
    await dead.close()
