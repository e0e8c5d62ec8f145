"""The FERPA record of disclosures (34 CFR 99.32): written with the read it records, listed.

Written in the caller's tenant transaction, so a disclosure row exists exactly when the read
that it records committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from tenants.transaction import TenantConnection


@dataclass(frozen=True)
class DisclosureRow:
    """One entry of the FERPA record of disclosures (34 CFR 99.32(a))."""

    student_id: str
    event: str  # disclosed, refused_hold, refused_not_authorized
    channel: str  # api, batch
    consumer_id: UUID | None
    consumer_name: str
    client_id: str | None
    recipient: str
    purpose: str
    legal_basis: str
    request_tracking_id: str | None = None
    document_id: str | None = None
    document_sha256: str | None = None
    pesc_version: str | None = None
    detail: str | None = None


_INSERT_DISCLOSURE = """
INSERT INTO disclosures (district_id, student_id, event, channel, consumer_id, consumer_name,
    client_id, recipient, purpose, legal_basis, request_tracking_id, document_id,
    document_sha256, pesc_version, detail)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING disclosure_id, occurred_at
"""


async def record_disclosure(tx: TenantConnection, row: DisclosureRow) -> tuple[UUID, datetime]:
    """Write the row in the caller's transaction: if it fails, the read it records fails too."""
    written = await tx.fetchrow(
        _INSERT_DISCLOSURE,
        tx.district_id,
        row.student_id,
        row.event,
        row.channel,
        row.consumer_id,
        row.consumer_name,
        row.client_id,
        row.recipient,
        row.purpose,
        row.legal_basis,
        row.request_tracking_id,
        row.document_id,
        row.document_sha256,
        row.pesc_version,
        row.detail,
    )
    assert written is not None
    return written["disclosure_id"], written["occurred_at"]


_DISCLOSURE_COLUMNS = (
    "disclosure_id, occurred_at, student_id, event, channel, consumer_name, client_id,"
    " recipient, purpose, legal_basis, request_tracking_id, document_id, document_sha256,"
    " pesc_version"
)
_LIST_DISCLOSURES = (
    "SELECT " + _DISCLOSURE_COLUMNS + " FROM disclosures"  # noqa: S608 - constant columns
    " WHERE district_id = $1 AND ($2::text IS NULL OR student_id = $2)"
    " AND ($3::timestamptz IS NULL OR occurred_at >= $3)"
    " AND ($4::timestamptz IS NULL OR occurred_at < $4)"
    " AND ($5::text IS NULL OR consumer_name ILIKE '%' || $5 || '%')"
    " ORDER BY occurred_at DESC, disclosure_id LIMIT $6 OFFSET $7"
)
_COUNT_DISCLOSURES = (
    "SELECT count(*) FROM disclosures WHERE district_id = $1 AND ($2::text IS NULL OR student_id = $2)"
    " AND ($3::timestamptz IS NULL OR occurred_at >= $3)"
    " AND ($4::timestamptz IS NULL OR occurred_at < $4)"
    " AND ($5::text IS NULL OR consumer_name ILIKE '%' || $5 || '%')"
)


@dataclass(frozen=True)
class DisclosureFilter:
    student_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    consumer: str | None = None

    def args(self) -> tuple[Any, ...]:
        return (self.student_id, self.since, self.until, self.consumer)


async def disclosures(
    tx: TenantConnection, where: DisclosureFilter, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    rows = await tx.fetch(_LIST_DISCLOSURES, tx.district_id, *where.args(), limit, offset)
    return [dict(r) for r in rows]


async def count_disclosures(tx: TenantConnection, where: DisclosureFilter) -> int:
    return int(await tx.fetchval(_COUNT_DISCLOSURES, tx.district_id, *where.args()))
