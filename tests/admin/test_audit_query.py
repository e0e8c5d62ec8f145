"""The audit search's query: built only from the filters asked for, never from their text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.admin.audit import AuditFilter, audit_filter, page, statement
from gateway.errors import ValidationFailed

NO_FILTERS = {
    "action": None,
    "district": None,
    "actor": None,
    "actor_type": None,
    "outcome": None,
    "since": None,
    "until": None,
    "limit": 100,
    "offset": 0,
}


def test_no_filters_reads_the_newest_page() -> None:
    sql, args = statement(AuditFilter())
    assert " WHERE " not in sql
    assert sql.endswith("ORDER BY a.occurred_at DESC, a.audit_id DESC LIMIT $1 OFFSET $2")
    assert args == [100, 0]


def test_filters_are_placeholders_and_user_text_stays_out_of_the_sql() -> None:
    hostile = "x' OR '1'='1"
    since = datetime(2026, 1, 1, tzinfo=UTC)
    sql, args = statement(AuditFilter(action=hostile, district="920", since=since, limit=5))
    assert hostile not in sql
    assert "a.action = $1" in sql
    assert "lea_code = $2" in sql
    assert "a.occurred_at >= $3" in sql
    assert sql.endswith("LIMIT $4 OFFSET $5")
    assert args == [hostile, "920", since, 5, 0]


def test_query_parameters_become_a_filter() -> None:
    wanted = audit_filter(
        {**NO_FILTERS, "district": "92f", "since": "2026-01-01", "until": "2026-01-31"}
    )
    assert wanted.district == "92F"
    assert wanted.since == datetime(2026, 1, 1, tzinfo=UTC)
    assert wanted.until == datetime(2026, 2, 1, tzinfo=UTC), "until a date means through it"


def test_bad_dates_and_district_codes_are_named() -> None:
    with pytest.raises(ValidationFailed) as caught:
        audit_filter({**NO_FILTERS, "district": "9-2", "since": "yesterday"})
    assert set(caught.value.errors) == {"district", "since"}


def test_a_full_page_points_at_the_next() -> None:
    wanted = AuditFilter(limit=2, offset=4)
    assert page([{}, {}], wanted)["next_offset"] == 6
    assert page([{}], wanted)["next_offset"] is None
