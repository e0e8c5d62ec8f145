"""The Batch Report's numbers come from its rows alone (pure aggregation), and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from gateway.outgoing.report import CSV_COLUMNS, summarize

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def batch(**overrides: Any) -> dict[str, Any]:
    return {
        "batch_id": 7,
        "lea_code": "920",
        "district_name": "Wake County Schools",
        "connection_id": uuid4(),
        "connection_name": "Parchment",
        "queued_by": "ops",
        "selection": {"kind": "cohort", "cohort_year": 2025, "count": 4},
        "purpose": "Enrollment",
        "legal_basis": "34 CFR 99.31(a)(2)",
        "status": "running",
        "created_at": NOW,
        "started_at": NOW,
        "finished_at": None,
        "item_count": 4,
        **overrides,
    }


def item(no: int, status: str, **overrides: Any) -> dict[str, Any]:
    return {
        "item_no": no,
        "student_id": f"100000000{no}",
        "status": status,
        "attempts": 1,
        "vendor_reference": f"V-{no}" if status == "delivered" else None,
        "error_kind": None,
        "last_error": None,
        "document_id": f"{no:032x}",
        "document_sha256": None,
        "updated_at": NOW,
        "delivered_at": NOW if status == "delivered" else None,
        **overrides,
    }


ITEMS = [
    item(1, "delivered"),
    item(2, "delivered"),
    item(3, "failed", error_kind="hold", last_error="hold"),
    item(
        4,
        "queued",
        attempts=2,
        error_kind="http_5xx",
        last_error="The upload endpoint answered 503",
    ),
]


def test_counts_by_status_include_every_status() -> None:
    report = summarize(batch(), ITEMS)
    assert report.counts == {"queued": 1, "in_progress": 0, "delivered": 2, "failed": 1}
    assert (report.total, report.done, report.finished) == (4, 3, False)


def test_lines_keep_item_order_and_say_why() -> None:
    report = summarize(batch(), ITEMS)
    assert [line.item_no for line in report.lines] == [1, 2, 3, 4]
    assert report.lines[0].vendor_reference == "V-1"
    assert (report.lines[2].error_kind, report.lines[2].error) == ("hold", "hold")
    assert report.lines[3].attempts == 2


def test_summary_has_no_lines_and_the_dict_has_them() -> None:
    report = summarize(batch(status="finished", finished_at=NOW), ITEMS[:3])
    assert "lines" not in report.summary()
    assert report.summary()["counts"]["delivered"] == 2
    assert len(report.as_dict()["lines"]) == 3
    assert report.finished


def test_csv_has_a_header_and_one_row_per_student() -> None:
    report = summarize(batch(), ITEMS)
    rows = list(csv.DictReader(io.StringIO(report.csv_text())))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert [r["student_id"] for r in rows] == [i["student_id"] for i in ITEMS]
    assert rows[2]["error"] == "hold"
    assert rows[0]["vendor_reference"] == "V-1"
    assert all(r["batch_id"] == "7" for r in rows)
