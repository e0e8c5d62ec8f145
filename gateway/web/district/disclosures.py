"""The district's record of disclosures (34 CFR 99.32): filters, pages, and the CSV export.

District data is read only through `tenant_transaction` and `tenants.queries`, read-only.
Filters arrive in the query string of a GET form; they are parsed here by pure functions and
echoed back into the pager and CSV links, so every page and the export show the same rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID

from gateway.spreadsheet import csv_cell
from gateway.web.params import query_day
from tenants.directory import District
from tenants.queries import disclosures
from tenants.queries.disclosures import DisclosureFilter
from tenants.stores import StoreRegistry
from tenants.transaction import tenant_transaction

PAGE_SIZE = 50
CSV_CHUNK = 1000  # rows per short read-only transaction while the export streams
MAX_PAGE = 1_000_000
TEXT_LIMIT = 100
# Every column of the log, in this order: the export's contract with whoever reads it.
CSV_COLUMNS = (
    "disclosure_id",
    "occurred_at",
    "student_id",
    "event",
    "channel",
    "consumer_name",
    "client_id",
    "recipient",
    "purpose",
    "legal_basis",
    "request_tracking_id",
    "document_id",
    "document_sha256",
    "pesc_version",
)
EVENT_LABELS = {
    "disclosed": "Disclosed",
    "refused_hold": "Refused (hold)",
    "refused_not_authorized": "Refused (not authorized)",
}


@dataclass(frozen=True)
class Filters:
    """What the district asked to see. Dates are whole UTC days, both ends included."""

    student: str = ""
    consumer: str = ""
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    errors: Mapping[str, str] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return bool(self.student or self.consumer or self.date_from or self.date_to)

    def where(self) -> DisclosureFilter:
        return DisclosureFilter(
            student_id=self.student or None,
            consumer=self.consumer or None,
            since=_midnight(self.date_from) if self.date_from else None,
            until=_midnight(self.date_to + timedelta(days=1)) if self.date_to else None,
        )

    def query(self, **extra: str | int) -> str:
        """The query string that shows these filters again (with `extra`, e.g. a page)."""
        params: dict[str, str | int] = {
            "student": self.student,
            "consumer": self.consumer,
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
        }
        params.update(extra)
        return urlencode({k: v for k, v in params.items() if v != ""})


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _text(params: Mapping[str, str], name: str) -> str:
    return params.get(name, "").strip()[:TEXT_LIMIT]


def _page(raw: str) -> int:
    # A mangled page number is not worth an error page: it means the first page.
    try:
        return min(max(int(raw), 1), MAX_PAGE)
    except ValueError:
        return 1


def parse_filters(params: Mapping[str, str]) -> Filters:
    errors: dict[str, str] = {}
    date_from = query_day(params, "from", errors)
    date_to = query_day(params, "to", errors)
    if date_from and date_to and date_from > date_to:
        errors["to"] = "The end date is before the start date"
    return Filters(
        student=_text(params, "student"),
        consumer=_text(params, "consumer"),
        date_from=date_from,
        date_to=date_to,
        page=_page(params.get("page", "1")),
        errors=errors,
    )


@dataclass(frozen=True)
class Shown:
    """One disclosure row as the page shows it."""

    when: str
    student_id: str
    event: str
    consumer: str
    recipient: str
    purpose: str
    request_tracking_id: str
    document_id: str


def shown(row: Mapping[str, Any]) -> Shown:
    return Shown(
        when=row["occurred_at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),  # column says UTC
        student_id=row["student_id"],
        event=EVENT_LABELS.get(row["event"], row["event"]),
        consumer=row["consumer_name"],
        recipient=row["recipient"],
        purpose=row["purpose"],
        request_tracking_id=row["request_tracking_id"] or "—",
        document_id=row["document_id"] or "—",
    )


@dataclass(frozen=True)
class Listing:
    rows: list[Shown]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * PAGE_SIZE + 1 if self.rows else 0

    @property
    def last_shown(self) -> int:
        return (self.page - 1) * PAGE_SIZE + len(self.rows)


async def read_page(stores: StoreRegistry, district: District, filters: Filters) -> Listing:
    """One page, newest first, and the count, in one read-only snapshot of the district."""
    where = filters.where()
    async with tenant_transaction(stores, district, readonly=True) as tx:
        total = await disclosures.count_disclosures(tx, where)
        rows = await disclosures.disclosures(
            tx, where, limit=PAGE_SIZE, offset=(filters.page - 1) * PAGE_SIZE
        )
    return Listing([shown(r) for r in rows], total, filters.page)


def csv_lines(rows: Iterable[Mapping[str, Any]], header: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # RFC 4180: quoted as needed, CRLF line ends
    if header:
        writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(csv_cell(row[c]) for c in CSV_COLUMNS)
    return out.getvalue()


def export_window(filters: Filters, started: datetime) -> DisclosureFilter:
    """The export reads up to the moment it started: disclosures made while it streams do
    not shift the pages it has yet to read."""
    where = filters.where()
    until = min(where.until, started) if where.until else started
    return replace(where, until=until)


async def csv_export(
    stores: StoreRegistry, district: District, where: DisclosureFilter, chunk: int = CSV_CHUNK
) -> AsyncIterator[str]:
    """The whole filtered log as CSV text, `chunk` rows at a time.

    Each chunk is its own short transaction, so a slow download holds no pooled connection.
    The log is append-only, so between chunks rows can only be added; one added above the
    current offset (a disclosure whose transaction began before the export and committed
    during it) pushes rows already sent into the next chunk, and they are skipped by id.
    """
    yield csv_lines((), header=True)
    offset = 0
    previous: set[UUID] = set()
    while True:
        async with tenant_transaction(stores, district, readonly=True) as tx:
            rows = await disclosures.disclosures(tx, where, limit=chunk, offset=offset)
        fresh = [r for r in rows if r["disclosure_id"] not in previous]
        if fresh:
            yield csv_lines(fresh)
        if len(rows) < chunk:
            return
        offset += chunk
        previous = {r["disclosure_id"] for r in rows}


def csv_filename(lea: str, started: datetime) -> str:
    return f"disclosures-{lea}-{started.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.csv"
