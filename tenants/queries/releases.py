"""District data a batch release reads and writes, only through the tenant transaction.

Which students a cohort holds (and whether listed students exist) when a batch is queued, and
the disclosure rows that 34 CFR 99.32 requires when a transcript leaves (or is refused for a
hold). A delivery may be attempted by two workers at once (a lease that expired under a slow
worker), so each batch disclosure is written at most once per item: under a transaction-level
advisory lock on the item's tracking id, only if no row with that id exists yet.
"""

from __future__ import annotations

from collections.abc import Sequence

from tenants.queries.disclosures import DisclosureRow, record_disclosure
from tenants.transaction import TenantConnection

# First key of the two-key advisory locks this module takes (two-key locks never collide
# with the one-key locks of migrations and seeding).
_LOCK_CLASS = 7_246_006


async def cohort_students(tx: TenantConnection, cohort_year: int) -> list[str]:
    """The state ids of the district's students graduating in `cohort_year`, sorted."""
    rows = await tx.fetch(
        "SELECT student_id FROM students WHERE district_id = $1 AND cohort_year = $2"
        " ORDER BY student_id",
        tx.district_id,
        cohort_year,
    )
    return [r["student_id"] for r in rows]


async def known_students(tx: TenantConnection, student_ids: Sequence[str]) -> set[str]:
    """Which of `student_ids` are students of the district."""
    rows = await tx.fetch(
        "SELECT student_id FROM students WHERE district_id = $1 AND student_id = ANY($2::text[])",
        tx.district_id,
        list(student_ids),
    )
    return {r["student_id"] for r in rows}


async def recorded_event(tx: TenantConnection, student_id: str, tracking_id: str) -> str | None:
    """The event of the batch disclosure row already written for this item, if any."""
    event: str | None = await tx.fetchval(
        "SELECT event FROM disclosures WHERE district_id = $1 AND student_id = $2"
        " AND channel = 'batch' AND request_tracking_id = $3 LIMIT 1",
        tx.district_id,
        student_id,
        tracking_id,
    )
    return event


async def record_once(tx: TenantConnection, row: DisclosureRow) -> bool:
    """Write `row` unless this item (its request_tracking_id) already has one; True if written.

    The advisory lock is held to the end of the caller's transaction, so two workers settling
    the same item one after the other see each other's row.
    """
    assert row.channel == "batch"
    assert row.request_tracking_id
    await tx.execute(
        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _LOCK_CLASS, row.request_tracking_id
    )
    if await recorded_event(tx, row.student_id, row.request_tracking_id) is not None:
        return False
    await record_disclosure(tx, row)
    return True
