"""CSV cells that are safe to open in a spreadsheet.

A cell that starts with = + - @ (or a tab or carriage return) is run as a formula by
spreadsheet programs (OWASP "CSV injection"). Recipients, purposes, vendor references and
error texts come from outside the gateway, so every CSV the gateway writes passes its cells
through `csv_cell`, which prefixes such a cell with an apostrophe.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text
