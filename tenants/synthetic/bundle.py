"""Synthetic districts written as CSV bundles (docs/data-formats.md), for load benchmarks and
demos of `gateway data load`: the same rows `gateway seed` COPYs, in the files a district's
SIS would export."""

from __future__ import annotations

import csv
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from tenants.synthetic.generator import TABLES, DistrictRows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def write_bundle(rows: DistrictRows, folder: Path) -> list[Path]:
    """One `<table>.csv` per table in `folder` (created if needed), without district_id."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for table, records in rows.tables():
        path = folder / f"{table}.csv"
        with open(path, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(TABLES[table][1:])
            writer.writerows([_text(v) for v in record[1:]] for record in records)
        written.append(path)
    return written
