"""The eTranscript Batch Report as the pages show it, in the console and on the district's
read-only pages alike: a page of lines, the progress JSON the pages poll while a batch runs,
and the CSV download.

Pure functions on `gateway.outgoing.report.BatchReport` (the back end counts and reads); the
handlers are `console.batches` (operators) and `district.pages` (a district's own batches).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.responses import JSONResponse, Response

from gateway.audit import Actor, AuditEvent
from gateway.errors import NotFound
from gateway.outgoing.report import STATUSES, BatchReport, ReportLine

LINES_PER_PAGE = 500
MAX_PAGE = 1_000
STATUS_LABELS = {
    "queued": "Queued",
    "in_progress": "In progress",
    "delivered": "Delivered",
    "failed": "Failed",
    "running": "Running",
    "finished": "Finished",
}
NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class LinePage:
    """One page of a report's per-student lines (a cohort may have thousands)."""

    lines: tuple[ReportLine, ...]
    page: int
    pages: int
    total: int

    @property
    def first(self) -> int:
        return (self.page - 1) * LINES_PER_PAGE + 1 if self.lines else 0

    @property
    def last(self) -> int:
        return (self.page - 1) * LINES_PER_PAGE + len(self.lines)


def parse_batch_id(text: str) -> int:
    """A batch id from a URL; anything else names no batch (404, like an unknown one)."""
    if not text.isascii() or not text.isdigit() or len(text) > 18:
        raise NotFound("No such batch.")
    return int(text)


def page_number(raw: str | None) -> int:
    try:
        return min(max(int(raw or "1"), 1), MAX_PAGE)
    except ValueError:
        return 1


def line_page(report: BatchReport, page: int) -> LinePage:
    total = len(report.lines)
    pages = max(1, -(-total // LINES_PER_PAGE))
    page = min(page, pages)
    start = (page - 1) * LINES_PER_PAGE
    return LinePage(report.lines[start : start + LINES_PER_PAGE], page, pages, total)


def selection_text(selection: Mapping[str, Any]) -> str:
    count = selection.get("count", 0)
    students = f"{count} student{'s' if count != 1 else ''}"
    if selection.get("kind") == "cohort":
        return f"Cohort {selection.get('cohort_year')} ({students})"
    return f"List of {students}"


def progress(report: BatchReport) -> dict[str, Any]:
    """What a running batch's page polls every second: its state and counts, no lines."""
    return {
        "batch_id": report.batch_id,
        "status": report.status,
        "finished": report.finished,
        "total": report.total,
        "done": report.done,
        "counts": {status: report.counts[status] for status in STATUSES},
    }


def progress_response(report: BatchReport) -> Response:
    return JSONResponse(progress(report), headers=NO_STORE)


def csv_response(report: BatchReport) -> Response:
    filename = f"batch-{report.batch_id}-{report.lea_code}.csv"
    return Response(
        report.csv_text(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **NO_STORE},
    )


def export_event(actor: Actor, district_id: int | None, report: BatchReport) -> AuditEvent:
    """Who downloaded which batch's lines (student ids inside, so it is recorded)."""
    return AuditEvent(
        actor,
        "web.batch_export",
        district_id=district_id,
        target=str(report.batch_id),
        detail={"lines": len(report.lines)},
    )
