"""The audit log's query: built only from the filters asked for, never from their text, and
paged by a keyset cursor; and the admin API's query string turned into those filters."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.admin.audit import audit_filter, page
from gateway.control.audit_log import AuditFilter, AuditPage, statement
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
    "before": None,
}


def test_no_filters_reads_the_newest_page() -> None:
    sql, args = statement(AuditFilter(), limit=100)
    assert " WHERE " not in sql
    assert sql.endswith("ORDER BY a.occurred_at DESC, a.audit_id DESC LIMIT $1")
    assert "OFFSET" not in sql
    assert args == [100]


def test_filters_are_placeholders_and_user_text_stays_out_of_the_sql() -> None:
    hostile = "x' OR '1'='1"
    since = datetime(2026, 1, 1, tzinfo=UTC)
    wanted = AuditFilter(action=hostile, district="920", actor_contains=hostile, since=since)
    sql, args = statement(wanted, limit=5)
    assert hostile not in sql
    assert "a.action = $1" in sql
    assert "lea_code = $2" in sql
    assert "strpos(lower(a.actor), lower($3)) > 0" in sql
    assert "a.occurred_at >= $4" in sql
    assert sql.endswith("LIMIT $5")
    assert args == [hostile, "920", hostile, since, 5]


def test_the_cursor_bounds_the_page_by_the_cursor_rows_own_values() -> None:
    older, args = statement(AuditFilter(outcome="denied"), before=41, limit=3)
    assert "(a.occurred_at, a.audit_id) < (SELECT occurred_at, audit_id" in older
    assert older.endswith("ORDER BY a.occurred_at DESC, a.audit_id DESC LIMIT $3")
    assert args == ["denied", 41, 3]
    newer, args = statement(AuditFilter(), after=41, limit=3)
    assert "(a.occurred_at, a.audit_id) > (SELECT occurred_at, audit_id" in newer
    assert newer.endswith("ORDER BY a.occurred_at ASC, a.audit_id ASC LIMIT $2")
    assert args == [41, 3]


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


def test_a_page_points_at_the_next_older_one() -> None:
    assert page(AuditPage([{}, {}], None, 7), 2) == {
        "items": [{}, {}],
        "limit": 2,
        "next_before": 7,
    }
    assert page(AuditPage([{}], None, None), 2)["next_before"] is None
