"""Release batches and their queue of items: all the control-plane SQL of a batch release.

Queueing resolves the students (a list, or a graduation cohort read through the district's
tenant transaction) and writes the batch, one item per student and the audit row in one
transaction. Workers then move items through the states in sql/control/0002:

* `claim` takes due items with FOR UPDATE SKIP LOCKED (concurrent workers never wait on or
  take the same row) and leases them to one worker until `lease_expires_at`; the first claim
  fixes the item's document id, its idempotency key for every later attempt;
* `sweep_expired` puts items whose lease ran out (a worker killed mid-delivery) back in the
  queue, keeping their document id, so the next attempt cannot deliver a second copy;
* `reschedule` and `fail` apply only while the caller still holds the lease, so a worker that
  lost its lease cannot overwrite what the new holder does; `deliver` applies whoever reports
  it, since an accepted upload is a fact (and the vendor kept one copy under the key);
* `finish_if_done` closes a batch once nothing of it is open, snapshotting its counts.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from gateway.audit import Actor, AuditEvent, record
from gateway.control import vendors
from gateway.errors import Conflict, ConnectionNotReady, NotFound, ValidationFailed
from gateway.ferpa import DEFAULT_BASIS, DEFAULT_PURPOSE, LEGAL_BASES, STUDENT_ID
from gateway.outgoing.client import Endpoint
from gateway.outgoing.failures import Failure
from gateway.outgoing.report import batch_row
from gateway.pesc import DEFAULT_TRANSCRIPT_VERSION, TRANSCRIPT_VERSIONS
from tenants.directory import District
from tenants.queries import releases
from tenants.stores import StoreRegistry
from tenants.transaction import tenant_transaction

MAX_ITEMS = 100_000
WORKER_ACTOR = Actor("system", "release-worker")
_SHOWN_UNKNOWN = 10


@dataclass(frozen=True)
class BatchRequest:
    """What an operator asks for: one connection, and students by id or by cohort."""

    connection: str  # the connection's id, or its name within the district
    student_ids: tuple[str, ...] = ()
    cohort_year: int | None = None
    purpose: str = DEFAULT_PURPOSE
    legal_basis: str = DEFAULT_BASIS  # a key of gateway.ferpa.LEGAL_BASES
    pesc_version: str = DEFAULT_TRANSCRIPT_VERSION


def validate_request(request: BatchRequest) -> BatchRequest:
    """The request with student ids stripped and de-duplicated (first occurrence kept), or
    ValidationFailed naming every problem."""
    errors: dict[str, str] = {}
    ids = list(dict.fromkeys(s.strip() for s in request.student_ids if s.strip()))
    if bool(ids) == (request.cohort_year is not None):
        errors["selection"] = "Give either student ids or a cohort (graduation year), not both"
    bad = [s for s in ids if not STUDENT_ID.match(s)]
    if bad:
        errors["students"] = f"Not a student id: {', '.join(bad[:_SHOWN_UNKNOWN])}"
    elif len(ids) > MAX_ITEMS:
        errors["students"] = f"At most {MAX_ITEMS} students per batch"
    if request.cohort_year is not None and not 1990 <= request.cohort_year <= 2100:
        errors["cohort_year"] = "A graduation year, e.g. 2025"
    purpose = request.purpose.strip()
    if not purpose or len(purpose) > 200 or any(ord(c) < 32 for c in purpose):
        errors["purpose"] = "1 to 200 printable characters"
    if request.legal_basis not in LEGAL_BASES:
        errors["legal_basis"] = f"One of {', '.join(LEGAL_BASES)}"
    if request.pesc_version not in TRANSCRIPT_VERSIONS:
        errors["pesc_version"] = " or ".join(TRANSCRIPT_VERSIONS)
    if not request.connection.strip():
        errors["connection"] = "Required"
    if errors:
        raise ValidationFailed(errors)
    return BatchRequest(
        request.connection.strip(),
        tuple(ids),
        request.cohort_year,
        purpose,
        request.legal_basis,
        request.pesc_version,
    )


async def _connection_of(conn: asyncpg.Connection, district: District, ref: str) -> asyncpg.Record:
    try:
        by_id: UUID | None = UUID(ref)
    except ValueError:
        by_id = None
    row = await conn.fetchrow(
        "SELECT connection_id, name FROM outgoing_connections"
        " WHERE district_id = $1 AND (connection_id = $2 OR name = $3)",
        district.id,
        by_id,
        ref,
    )
    if row is None:
        raise NotFound(f"district {district.lea_code} has no outgoing connection {ref!r}")
    return row


async def _students(stores: StoreRegistry, district: District, request: BatchRequest) -> list[str]:
    async with tenant_transaction(stores, district, readonly=True) as tx:
        if request.cohort_year is not None:
            found = await releases.cohort_students(tx, request.cohort_year)
            if not found:
                raise ValidationFailed(
                    {
                        "cohort_year": f"District {district.lea_code} has no students of cohort"
                        f" {request.cohort_year}"
                    }
                )
            if len(found) > MAX_ITEMS:
                raise ValidationFailed({"cohort_year": f"More than {MAX_ITEMS} students"})
            return found
        known = await releases.known_students(tx, request.student_ids)
    unknown = [s for s in request.student_ids if s not in known]
    if unknown:
        shown = ", ".join(unknown[:_SHOWN_UNKNOWN]) + (
            " ..." if len(unknown) > _SHOWN_UNKNOWN else ""
        )
        raise ValidationFailed(
            {"students": f"{len(unknown)} not students of district {district.lea_code}: {shown}"}
        )
    return list(request.student_ids)


def _refuse_unless_ready(connection: dict[str, Any]) -> None:
    refusal = vendors.batch_refusal(connection)
    if refusal is not None:
        raise ConnectionNotReady(refusal, extra={"connection_id": str(connection["connection_id"])})


async def queue_batch(
    conn: asyncpg.Connection,
    stores: StoreRegistry,
    district: District,
    request: BatchRequest,
    actor: Actor,
) -> dict[str, Any]:
    """Queue a batch for `district` and return it (as `report.batch_row` shows it).

    NotFound for a connection the district does not have; ValidationFailed for a bad request,
    unknown students or an empty cohort; Conflict for a suspended district; ConnectionNotReady
    (a Conflict saying why and how to fix it) unless the connection's latest test is valid, it
    was not changed since, and it is not retired.
    """
    clean = validate_request(request)
    if not district.active:
        raise Conflict(f"District {district.lea_code} is suspended: nothing is released.")
    connection = await _connection_of(conn, district, clean.connection)
    _refuse_unless_ready(await vendors.get(conn, connection["connection_id"]))
    students = await _students(stores, district, clean)
    selection: dict[str, Any] = (
        {"kind": "cohort", "cohort_year": clean.cohort_year, "count": len(students)}
        if clean.cohort_year is not None
        else {"kind": "students", "count": len(students)}
    )
    async with conn.transaction():
        # Again under a share lock: an edit or a retirement since the first check wins.
        _refuse_unless_ready(await vendors.for_batch(conn, connection["connection_id"]))
        batch_id: int = await conn.fetchval(
            "INSERT INTO release_batches (district_id, connection_id, queued_by, selection,"
            " purpose, legal_basis, pesc_version, item_count)"
            " VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, $8) RETURNING batch_id",
            district.id,
            connection["connection_id"],
            actor.name[:200],
            json.dumps(selection),
            clean.purpose,
            LEGAL_BASES[clean.legal_basis],
            clean.pesc_version,
            len(students),
        )
        await conn.execute(
            "INSERT INTO release_items (batch_id, item_no, district_id, student_id)"
            " SELECT $1, t.n, $2, t.s FROM unnest($3::text[]) WITH ORDINALITY AS t(s, n)",
            batch_id,
            district.id,
            students,
        )
        await record(
            conn,
            AuditEvent(
                actor,
                "release.queue",
                district_id=district.id,
                target=str(batch_id),
                detail={
                    "connection_id": str(connection["connection_id"]),
                    "connection": connection["name"],
                    "selection": selection,
                },
            ),
        )
    return await batch_row(conn, batch_id)


# --- the queue ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claimed:
    """An item leased to this worker, with what delivering it needs (no secrets)."""

    batch_id: int
    item_no: int
    student_id: str
    attempts: int
    document_id: str
    document_created_at: datetime
    purpose: str
    legal_basis: str
    pesc_version: str
    district: District
    endpoint: Endpoint

    @property
    def tracking_id(self) -> str:
        """The item's RequestTrackingID (PESC: 1..35 characters), in the transcript and in
        the disclosure row: it ties a vendor's copy and the district's log to this item."""
        return f"batch-{self.batch_id}-{self.item_no}"


_CLAIM = """
WITH picked AS (
    SELECT batch_id, item_no FROM release_items
     WHERE status = 'queued' AND next_attempt_at <= now()
     ORDER BY next_attempt_at, batch_id, item_no
     LIMIT $1
       FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE release_items i
       SET status = 'in_progress',
           attempts = i.attempts + 1,
           lease_owner = $2,
           lease_expires_at = now() + make_interval(secs => $3),
           document_id = COALESCE(i.document_id, replace(gen_random_uuid()::text, '-', '')),
           document_created_at = COALESCE(i.document_created_at, now()),
           updated_at = now()
      FROM picked
     WHERE i.batch_id = picked.batch_id AND i.item_no = picked.item_no
    RETURNING i.batch_id, i.item_no, i.student_id, i.attempts, i.document_id,
              i.document_created_at
), started AS (
    UPDATE release_batches
       SET status = 'running', started_at = now()
     WHERE status = 'queued' AND batch_id IN (SELECT batch_id FROM claimed)
)
SELECT c.*, b.purpose, b.legal_basis, b.pesc_version,
       d.district_id, d.lea_code, d.name AS district_name, d.kind AS district_kind,
       d.status AS district_status, d.store,
       o.connection_id, o.name, o.auth_server, o.auth_path, o.upload_server, o.upload_port,
       o.upload_path, o.consumer_key, o.username, o.grant_type, o.updated_at
  FROM claimed c
  JOIN release_batches b ON b.batch_id = c.batch_id
  JOIN districts d ON d.district_id = b.district_id
  JOIN outgoing_connections o ON o.connection_id = b.connection_id
 ORDER BY c.batch_id, c.item_no
"""


def _claimed(row: asyncpg.Record) -> Claimed:
    district = District(
        id=row["district_id"],
        lea_code=row["lea_code"],
        name=row["district_name"],
        kind=row["district_kind"],
        status=row["district_status"],
        store=row["store"],
    )
    return Claimed(
        batch_id=row["batch_id"],
        item_no=row["item_no"],
        student_id=row["student_id"],
        attempts=row["attempts"],
        document_id=row["document_id"],
        document_created_at=row["document_created_at"],
        purpose=row["purpose"],
        legal_basis=row["legal_basis"],
        pesc_version=row["pesc_version"],
        district=district,
        endpoint=Endpoint.from_row(row),
    )


async def claim(
    conn: asyncpg.Connection, owner: str, lease_seconds: float, limit: int = 1
) -> list[Claimed]:
    """Lease up to `limit` due items to `owner`, oldest first."""
    rows = await conn.fetch(_CLAIM, limit, owner, lease_seconds)
    return [_claimed(r) for r in rows]


async def sweep_expired(conn: asyncpg.Connection) -> int:
    """Queue again every item whose lease ran out; how many. Its holder died (or stalled past
    the lease); the document id stays, so a second attempt is the same document to the vendor."""
    rows = await conn.fetch(
        """
        WITH expired AS (
            SELECT batch_id, item_no FROM release_items
             WHERE status = 'in_progress' AND lease_expires_at <= now()
               FOR UPDATE SKIP LOCKED
        )
        UPDATE release_items i
           SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL,
               next_attempt_at = now(), error_kind = 'lease_expired',
               last_error = 'The worker delivering it stopped answering; queued again',
               updated_at = now()
          FROM expired
         WHERE i.batch_id = expired.batch_id AND i.item_no = expired.item_no
        RETURNING i.batch_id
        """
    )
    return len(rows)


def _clip(text: str) -> str:
    return text[:500]


async def reschedule(
    conn: asyncpg.Connection,
    item: Claimed,
    owner: str,
    delay: float,
    failure: Failure,
    sha256: str | None = None,
) -> bool:
    """Back to the queue after `delay` seconds; False if `owner` no longer holds the lease."""
    status = await conn.execute(
        "UPDATE release_items SET status = 'queued', lease_owner = NULL, lease_expires_at = NULL,"
        " next_attempt_at = now() + make_interval(secs => $4), error_kind = $5, last_error = $6,"
        " document_sha256 = COALESCE($7, document_sha256), updated_at = now()"
        " WHERE batch_id = $1 AND item_no = $2 AND status = 'in_progress' AND lease_owner = $3",
        item.batch_id,
        item.item_no,
        owner,
        delay,
        failure.kind,
        _clip(failure.message),
        sha256,
    )
    return bool(status == "UPDATE 1")


async def fail(
    conn: asyncpg.Connection,
    item: Claimed,
    owner: str,
    kind: str,
    message: str,
    sha256: str | None = None,
) -> bool:
    """Failed for good; False if `owner` no longer holds the lease."""
    status = await conn.execute(
        "UPDATE release_items SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL,"
        " error_kind = $4, last_error = $5, document_sha256 = COALESCE($6, document_sha256),"
        " updated_at = now()"
        " WHERE batch_id = $1 AND item_no = $2 AND status = 'in_progress' AND lease_owner = $3",
        item.batch_id,
        item.item_no,
        owner,
        kind,
        _clip(message),
        sha256,
    )
    return bool(status == "UPDATE 1")


async def deliver(
    conn: asyncpg.Connection, item: Claimed, reference: str | None, sha256: str | None
) -> str | None:
    """Delivered; the item's previous status, or None if it already was delivered.

    Not tied to the lease: the vendor accepted it, and whoever learns that first records it (a
    later holder's report then changes nothing). A late acceptance may even turn a failed item
    into a delivered one; the closed batch's counts are then taken again.
    """
    previous: str | None = await conn.fetchval(
        """
        UPDATE release_items i
           SET status = 'delivered', delivered_at = now(), lease_owner = NULL,
               lease_expires_at = NULL, vendor_reference = COALESCE($3, i.vendor_reference),
               document_sha256 = COALESCE($4, i.document_sha256), error_kind = NULL,
               last_error = NULL, updated_at = now()
          FROM (SELECT batch_id, item_no, status FROM release_items
                 WHERE batch_id = $1 AND item_no = $2 FOR UPDATE) old
         WHERE i.batch_id = old.batch_id AND i.item_no = old.item_no
           AND old.status <> 'delivered'
        RETURNING old.status
        """,
        item.batch_id,
        item.item_no,
        reference,
        sha256,
    )
    if previous == "failed":
        await conn.execute(
            "UPDATE release_batches b SET"
            " delivered_count = (SELECT count(*) FROM release_items i"
            "   WHERE i.batch_id = b.batch_id AND i.status = 'delivered'),"
            " failed_count = (SELECT count(*) FROM release_items i"
            "   WHERE i.batch_id = b.batch_id AND i.status = 'failed')"
            " WHERE b.batch_id = $1 AND b.status = 'finished'",
            item.batch_id,
        )
    return previous


_FINISH = """
UPDATE release_batches b
   SET status = 'finished', finished_at = now(), started_at = COALESCE(b.started_at, now()),
       delivered_count = (SELECT count(*) FROM release_items i
                           WHERE i.batch_id = b.batch_id AND i.status = 'delivered'),
       failed_count = (SELECT count(*) FROM release_items i
                        WHERE i.batch_id = b.batch_id AND i.status = 'failed')
 WHERE b.batch_id = $1 AND b.status <> 'finished'
   AND NOT EXISTS (SELECT 1 FROM release_items i
                    WHERE i.batch_id = b.batch_id AND i.status IN ('queued', 'in_progress'))
RETURNING b.batch_id, b.district_id, b.item_count, b.delivered_count, b.failed_count
"""


async def finish_if_done(conn: asyncpg.Connection, batch_id: int) -> dict[str, Any] | None:
    """Close the batch if none of its items is open; the closed batch's counts, or None.

    Called after each item is settled and committed, so of two workers settling a batch's
    last two items at once, the later one's check sees both and closes it.
    """
    async with conn.transaction():
        row = await conn.fetchrow(_FINISH, batch_id)
        if row is None:
            return None
        await record(
            conn,
            AuditEvent(
                WORKER_ACTOR,
                "release.finish",
                "success" if row["failed_count"] == 0 else "failure",
                district_id=row["district_id"],
                target=str(batch_id),
                detail={
                    "items": row["item_count"],
                    "delivered": row["delivered_count"],
                    "failed": row["failed_count"],
                },
            ),
        )
    return dict(row)


async def finish_stale(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Close batches left open by a worker that died between an item and the check."""
    ids: Sequence[asyncpg.Record] = await conn.fetch(
        "SELECT batch_id FROM release_batches b WHERE b.status <> 'finished'"
        " AND NOT EXISTS (SELECT 1 FROM release_items i"
        "  WHERE i.batch_id = b.batch_id AND i.status IN ('queued', 'in_progress'))"
    )
    closed = [await finish_if_done(conn, r["batch_id"]) for r in ids]
    return [c for c in closed if c is not None]


async def anything_open(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM release_items WHERE status IN ('queued', 'in_progress'))"
        )
    )


OPEN_STATES = ("queued", "in_progress")


async def queue_depth(conn: asyncpg.Connection) -> dict[str, tuple[int, float]]:
    """Open items by state: how many, and the seconds the oldest has been in that state
    (`updated_at` moves at every change of state). Reads the open-item indexes only."""
    rows = await conn.fetch(
        "SELECT status, count(*) AS items,"
        " EXTRACT(EPOCH FROM now() - min(updated_at))::float8 AS oldest"
        " FROM release_items WHERE status IN ('queued', 'in_progress') GROUP BY status"
    )
    found = {state: (0, 0.0) for state in OPEN_STATES}
    found.update({r["status"]: (int(r["items"]), max(float(r["oldest"]), 0.0)) for r in rows})
    return found
