"""What the admin API says about batch releases and connection tests: the projections (rows
and reports in, JSON out, with explicit fields) and their JSON Schemas with an example each.

A batch is always the same object, whether just queued, listed or read with its lines: the
counts by status, `total` students and `done` (delivered + failed), which is what a script
polls while a batch runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.admin.representations import obj
from gateway.outgoing.probe import ProbeResult
from gateway.outgoing.report import STATUSES, BatchReport

_TEXT = {"type": "string"}
_OPT_TEXT = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_OPT_TIME = {"type": ["string", "null"], "format": "date-time"}
_INT = {"type": "integer"}
_UUID = {"type": "string", "format": "uuid"}

# --- projections ----------------------------------------------------------------------------


def _selection(selection: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "kind": selection.get("kind"),
        "count": selection.get("count"),
        "cohort_year": selection.get("cohort_year"),
    }


def batch(summary: Mapping[str, Any]) -> dict[str, Any]:
    """A batch from `BatchReport.summary()` (or a row shaped like one, see below)."""
    return {
        "batch_id": summary["batch_id"],
        "district": summary["lea_code"],
        "district_name": summary["district_name"],
        "connection_id": str(summary["connection_id"]),
        "connection_name": summary["connection_name"],
        "queued_by": summary["queued_by"],
        "selection": _selection(summary["selection"]),
        "purpose": summary["purpose"],
        "legal_basis": summary["legal_basis"],
        "status": summary["status"],
        "total": summary["total"],
        "counts": {status: summary["counts"][status] for status in STATUSES},
        "done": summary["done"],
        "created_at": summary["created_at"],
        "started_at": summary["started_at"],
        "finished_at": summary["finished_at"],
    }


def listed(row: Mapping[str, Any]) -> dict[str, Any]:
    """A row of `report.list_batches` (its counts are columns)."""
    counts = {status: row[status] for status in STATUSES}
    done = counts["delivered"] + counts["failed"]
    return batch({**row, "total": row["item_count"], "counts": counts, "done": done})


def queued(row: Mapping[str, Any]) -> dict[str, Any]:
    """The row `queue_batch` returns: every student queued, nothing settled yet."""
    counts = dict.fromkeys(STATUSES, 0) | {"queued": row["item_count"]}
    return batch({**row, "total": row["item_count"], "counts": counts, "done": 0})


def report(full: BatchReport) -> dict[str, Any]:
    lines = [
        {
            "item_no": line.item_no,
            "student_id": line.student_id,
            "status": line.status,
            "attempts": line.attempts,
            "vendor_reference": line.vendor_reference,
            "error_kind": line.error_kind,
            "error": line.error,
            "document_id": line.document_id,
            "document_sha256": line.document_sha256,
            "time": line.time,
        }
        for line in full.lines
    ]
    return {**batch(full.summary()), "lines": lines}


def test_result(connection_id: Any, result: ProbeResult) -> dict[str, Any]:
    return {
        "connection_id": str(connection_id),
        "ok": result.ok,
        "headline": result.headline,
        "kind": result.kind,
        "reason": result.reason,
        "message": result.message,
        "upload_status": result.upload_status,
        "elapsed_ms": result.elapsed_ms,
        "tested_at": result.tested_at,
    }


# --- JSON Schemas -----------------------------------------------------------------------------

_STATUS = {"type": "string", "enum": list(STATUSES)}
BATCH = obj(
    {
        "batch_id": _INT,
        "district": _TEXT,
        "district_name": _TEXT,
        "connection_id": _UUID,
        "connection_name": _TEXT,
        "queued_by": {"type": "string", "description": "The operator (email or client id)."},
        "selection": obj(
            {
                "kind": {"type": "string", "enum": ["students", "cohort"]},
                "count": _INT,
                "cohort_year": {"type": ["integer", "null"]},
            }
        ),
        "purpose": _TEXT,
        "legal_basis": _TEXT,
        "status": {"type": "string", "enum": ["queued", "running", "finished"]},
        "total": {"type": "integer", "description": "Students in the batch."},
        "counts": obj({status: _INT for status in STATUSES}, "Students by status."),
        "done": {
            "type": "integer",
            "description": "Delivered + failed: what a progress bar shows.",
        },
        "created_at": _TIME,
        "started_at": _OPT_TIME,
        "finished_at": _OPT_TIME,
    },
    "A batch release and its counts by status.",
)
LINE = obj(
    {
        "item_no": _INT,
        "student_id": _TEXT,
        "status": _STATUS,
        "attempts": _INT,
        "vendor_reference": _OPT_TEXT,
        "error_kind": _OPT_TEXT,
        "error": {
            "type": ["string", "null"],
            "description": "Why it failed; on a queued line, why the next attempt is a retry.",
        },
        "document_id": {"type": ["string", "null"], "description": "The Idempotency-Key sent."},
        "document_sha256": _OPT_TEXT,
        "time": {
            "type": "string",
            "format": "date-time",
            "description": "Delivered, or last change.",
        },
    }
)
REPORT = obj(
    {**BATCH["properties"], "lines": {"type": "array", "items": LINE}},
    "The eTranscript Batch Report: the batch, and one line per student in item order.",
)
TEST_RESULT = obj(
    {
        "connection_id": _UUID,
        "ok": {"type": "boolean"},
        "headline": {"type": "string", "enum": ["Your connection is valid", "Connection failed"]},
        "kind": {
            "type": ["string", "null"],
            "description": "dns, tls, refused, timeout, network, auth, token, unauthorized, "
            "http_5xx, unexpected; null when valid.",
        },
        "reason": {
            "type": ["string", "null"],
            "description": "The short label: DNS, TLS, refused, timeout, 401 from the auth "
            "server, unexpected response.",
        },
        "message": _TEXT,
        "upload_status": {"type": ["integer", "null"]},
        "elapsed_ms": _INT,
        "tested_at": _TIME,
    },
    "The outcome of one connection test; also stored on the connection (last_test_*).",
)

# --- examples -------------------------------------------------------------------------------

BATCH_EXAMPLE: dict[str, Any] = {
    "batch_id": 42,
    "district": "920",
    "district_name": "Wake County Schools",
    "connection_id": "0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10",
    "connection_name": "Parchment",
    "queued_by": "op-6f1c2a",
    "selection": {"kind": "cohort", "count": 2, "cohort_year": 2026},
    "purpose": "Enrollment at another institution",
    "legal_basis": "34 CFR 99.31(a)(2): enrollment at another institution",
    "status": "finished",
    "total": 2,
    "counts": {"queued": 0, "in_progress": 0, "delivered": 1, "failed": 1},
    "done": 2,
    "created_at": "2026-05-04T14:00:00+00:00",
    "started_at": "2026-05-04T14:00:01+00:00",
    "finished_at": "2026-05-04T14:00:03+00:00",
}
QUEUED_EXAMPLE: dict[str, Any] = {
    **BATCH_EXAMPLE,
    "selection": {"kind": "students", "count": 2, "cohort_year": None},
    "status": "queued",
    "counts": {"queued": 2, "in_progress": 0, "delivered": 0, "failed": 0},
    "done": 0,
    "started_at": None,
    "finished_at": None,
}
REPORT_EXAMPLE: dict[str, Any] = {
    **BATCH_EXAMPLE,
    "lines": [
        {
            "item_no": 1,
            "student_id": "1000000001",
            "status": "delivered",
            "attempts": 1,
            "vendor_reference": "PCH-000123",
            "error_kind": None,
            "error": None,
            "document_id": "3f0c9a1e5b7d4c2a8e6f1b3d5c7a9e0f",
            "document_sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "time": "2026-05-04T14:00:02+00:00",
        },
        {
            "item_no": 2,
            "student_id": "1000000002",
            "status": "failed",
            "attempts": 1,
            "vendor_reference": None,
            "error_kind": "hold",
            "error": "hold",
            "document_id": "7a1e0c9f3b5d4e2a8c6f1b3d5c7a9e0f",
            "document_sha256": None,
            "time": "2026-05-04T14:00:03+00:00",
        },
    ],
}
TEST_EXAMPLE: dict[str, Any] = {
    "connection_id": "0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10",
    "ok": False,
    "headline": "Connection failed",
    "kind": "auth",
    "reason": "401 from the auth server",
    "message": "401 from the auth server: the user name or password was refused (invalid_grant)",
    "upload_status": None,
    "elapsed_ms": 84,
    "tested_at": "2026-05-04T13:58:10+00:00",
}
