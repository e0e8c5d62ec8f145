"""Every CSV the gateway writes is safe to open in a spreadsheet."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from gateway.spreadsheet import csv_cell


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("http://evil")', '\'=HYPERLINK("http://evil")'),
        ("+1+1", "'+1+1"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("Appalachian State University", "Appalachian State University"),
        (None, ""),
        (42, "42"),
    ],
)
def test_formula_cells_are_quoted(value: object, cell: str) -> None:
    assert csv_cell(value) == cell


def test_times_are_utc_iso() -> None:
    eastern = timezone(timedelta(hours=-5))
    assert csv_cell(datetime(2026, 1, 2, 7, 0, tzinfo=eastern)) == "2026-01-02T12:00:00+00:00"
    assert csv_cell(datetime(2026, 1, 2, 12, 0, tzinfo=UTC)) == "2026-01-02T12:00:00+00:00"
