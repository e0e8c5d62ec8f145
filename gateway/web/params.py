"""Query-string filters shared by the pages that list things (pure functions)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date


def query_day(params: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    """A YYYY-MM-DD filter; a bad one is noted in `errors` under its name."""
    raw = params.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        errors[name] = "A date as YYYY-MM-DD"
        return None
