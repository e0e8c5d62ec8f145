"""The eTranscript Batch Report: per batch, counts by status and one line per student.

`summarize` is pure (rows in, report out) so that the CLI, the console and the district's
read-only pages all show the same numbers; `load_report` reads the rows (control database
only: the report holds no student record, just ids, statuses and the vendor's answers).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import asyncpg

from gateway.errors import NotFound
from gateway.spreadsheet import csv_cell

STATUSES = ("queued", "in_progress", "delivered", "failed")
CSV_COLUMNS = (
    "batch_id",
    "item_no",
    "student_id",
    "status",
    "attempts",
    "vendor_reference",
    "error_kind",
    "error",
    "document_id",
    "document_sha256",
    "time",
)


@dataclass(frozen=True)
class ReportLine:
    item_no: int
    student_id: str
    status: str
    attempts: int
    vendor_reference: str | None
    error_kind: str | None
    error: str | None
    document_id: str | None
    document_sha256: str | None
    # When it was delivered, or when its status last changed.
    time: datetime


@dataclass(frozen=True)
class BatchReport:
    batch_id: int
    lea_code: str
    district_name: str
    connection_id: str
    connection_name: str
    queued_by: str
    selection: Mapping[str, Any]
    purpose: str
    legal_basis: str
    status: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    total: int
    counts: Mapping[str, int]
    lines: tuple[ReportLine, ...]

    @property
    def done(self) -> int:
        """Items settled one way or the other (what a progress bar shows)."""
        return self.counts["delivered"] + self.counts["failed"]

    @property
    def finished(self) -> bool:
        return self.status == "finished"

    def summary(self) -> dict[str, Any]:
        """The batch without its lines: what `release status` and list pages show."""
        data = asdict(self)
        data.pop("lines")
        data["counts"] = dict(self.counts)
        data["selection"] = dict(self.selection)
        data["done"] = self.done
        return data

    def as_dict(self) -> dict[str, Any]:
        return {**self.summary(), "lines": [asdict(line) for line in self.lines]}

    def csv_text(self) -> str:
        """The lines as CSV (RFC 4180), cells made safe for spreadsheets: the vendor's
        references and error texts come from outside."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(CSV_COLUMNS)
        for line in self.lines:
            cells = {"batch_id": self.batch_id, **asdict(line)}
            writer.writerow(csv_cell(cells[column]) for column in CSV_COLUMNS)
        return out.getvalue()


def count_statuses(statuses: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for status in statuses:
        counts[status] += 1
    return counts


def summarize(batch: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> BatchReport:
    """The report of one batch from its row and its items' rows (in item order)."""
    lines = tuple(
        ReportLine(
            item_no=item["item_no"],
            student_id=item["student_id"],
            status=item["status"],
            attempts=item["attempts"],
            vendor_reference=item["vendor_reference"],
            error_kind=item["error_kind"],
            error=item["last_error"],
            document_id=item["document_id"],
            document_sha256=item["document_sha256"],
            time=item["delivered_at"] or item["updated_at"],
        )
        for item in items
    )
    return BatchReport(
        batch_id=batch["batch_id"],
        lea_code=batch["lea_code"],
        district_name=batch["district_name"],
        connection_id=str(batch["connection_id"]),
        connection_name=batch["connection_name"],
        queued_by=batch["queued_by"],
        selection=batch["selection"],
        purpose=batch["purpose"],
        legal_basis=batch["legal_basis"],
        status=batch["status"],
        created_at=batch["created_at"],
        started_at=batch["started_at"],
        finished_at=batch["finished_at"],
        total=batch["item_count"],
        counts=count_statuses([line.status for line in lines]),
        lines=lines,
    )


_BATCH = """
SELECT b.batch_id, b.district_id, d.lea_code, d.name AS district_name, b.connection_id,
       c.name AS connection_name, b.queued_by, b.selection, b.purpose, b.legal_basis,
       b.pesc_version, b.status, b.item_count, b.delivered_count, b.failed_count,
       b.created_at, b.started_at, b.finished_at
  FROM release_batches b
  JOIN districts d ON d.district_id = b.district_id
  JOIN outgoing_connections c ON c.connection_id = b.connection_id
"""
# Live counts only for open batches; a finished one has them snapshotted on its row.
_LIST = (
    "SELECT s.*,"  # noqa: S608 - constants only
    " COALESCE(i.queued, 0) AS queued, COALESCE(i.in_progress, 0) AS in_progress,"
    " COALESCE(i.delivered, 0) AS delivered, COALESCE(i.failed, 0) AS failed"
    " FROM (" + _BATCH + " WHERE ($1::text IS NULL OR d.lea_code = $1)"
    "   AND ($2::integer IS NULL OR b.district_id = $2)"
    "   ORDER BY b.created_at DESC, b.batch_id DESC LIMIT $3) s"
    " LEFT JOIN LATERAL ("
    "   SELECT count(*) FILTER (WHERE status = 'queued') AS queued,"
    "          count(*) FILTER (WHERE status = 'in_progress') AS in_progress,"
    "          count(*) FILTER (WHERE status = 'delivered') AS delivered,"
    "          count(*) FILTER (WHERE status = 'failed') AS failed"
    "     FROM release_items WHERE batch_id = s.batch_id AND s.status <> 'finished') i ON true"
    " ORDER BY s.created_at DESC, s.batch_id DESC"
)
_ITEMS = (
    "SELECT item_no, student_id, status, attempts, vendor_reference, error_kind, last_error,"
    " document_id, document_sha256, updated_at, delivered_at"
    " FROM release_items WHERE batch_id = $1 ORDER BY item_no"
)


async def batch_row(
    conn: asyncpg.Connection, batch_id: int, *, district_id: int | None = None
) -> dict[str, Any]:
    """The batch, joined with its district and connection names. With `district_id` (a
    district's own pages), a batch of another district is the same NotFound as none."""
    row = await conn.fetchrow(
        _BATCH + " WHERE b.batch_id = $1 AND ($2::integer IS NULL OR b.district_id = $2)",
        batch_id,
        district_id,
    )
    if row is None:
        raise NotFound(f"no batch {batch_id}")
    return _decoded(row)


def _decoded(row: asyncpg.Record) -> dict[str, Any]:
    data = dict(row)
    if isinstance(data["selection"], str):  # asyncpg returns jsonb as text without a codec
        data["selection"] = json.loads(data["selection"])
    return data


async def load_report(
    conn: asyncpg.Connection, batch_id: int, *, district_id: int | None = None
) -> BatchReport:
    """The whole report of one batch, for the CLI, the console and the district's pages.

    Pass `district_id` when a district user asks: another district's batch is NotFound.
    """
    batch = await batch_row(conn, batch_id, district_id=district_id)
    items = await conn.fetch(_ITEMS, batch_id)
    return summarize(batch, [dict(r) for r in items])


async def list_batches(
    conn: asyncpg.Connection,
    *,
    lea_code: str | None = None,
    district_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Batches, newest first, with live counts by status (one query, no lines)."""
    rows = await conn.fetch(
        _LIST,
        lea_code.upper() if lea_code else None,
        district_id,
        limit,
    )
    batches = []
    for row in rows:
        data = _decoded(row)
        if data["status"] == "finished":  # snapshotted: no need to count the items again
            data["delivered"], data["failed"] = data["delivered_count"], data["failed_count"]
        data.pop("delivered_count")
        data.pop("failed_count")
        batches.append(data)
    return batches
