"""The static routing check itself: it must catch what Citus would send to every shard."""

from __future__ import annotations

import pytest

from tests.sql_routing import coordinator_refusals, unrouted
from tests.test_architecture import DISTRICT_TABLES


def check(sql: str, *, bulk: bool = False) -> list[str]:
    return unrouted(sql, DISTRICT_TABLES, bulk=bulk)


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM students WHERE district_id = $1 AND student_id = $2",
        "SELECT * FROM students s WHERE s.district_id = $1",
        "SELECT * FROM students s JOIN course_records c"
        " ON c.district_id = s.district_id AND c.student_id = s.student_id"
        " WHERE s.district_id = $1",
        "SELECT 1 FROM students s WHERE s.district_id = $1 AND EXISTS (SELECT 1 FROM"
        " transcript_holds h WHERE h.district_id = s.district_id AND h.student_id = s.student_id)",
        "INSERT INTO disclosures (district_id, student_id) VALUES ($1, $2)",
        "INSERT INTO unlisted_students (district_id, student_id) SELECT district_id, student_id"
        " FROM students WHERE district_id = $1 AND student_id <> ALL($2::text[])",
        "WITH c AS (SELECT * FROM course_records WHERE district_id = $1)"
        " SELECT * FROM c JOIN academic_sessions a ON a.district_id = $1",
    ],
)
def test_routable_statements_pass(sql: str) -> None:
    assert check(sql) == []


@pytest.mark.parametrize(
    ("sql", "offender"),
    [
        ("SELECT count(*) FROM students", "students"),
        ("SELECT * FROM students WHERE district_id > $1", "students"),
        ("SELECT * FROM students WHERE district_id = ANY($1::integer[])", "students"),
        ("SELECT * FROM students s WHERE district_id = $1", "students s"),
        (
            "SELECT * FROM students s JOIN course_records c ON c.student_id = s.student_id"
            " WHERE s.district_id = $1",
            "course_records c",
        ),
        (
            "SELECT d FROM unnest($1::integer[]) AS d"
            " WHERE EXISTS (SELECT 1 FROM schools WHERE district_id = d)",
            "schools",
        ),
        ("INSERT INTO disclosures (student_id) VALUES ($1)", "disclosures"),
        ("INSERT INTO disclosures (district_id) SELECT district_id FROM students", "disclosures"),
        (
            "INSERT INTO students (district_id, student_id) SELECT district_id, student_id"
            " FROM staged_students",
            "students",
        ),
        (
            "SELECT * FROM students WHERE district_id = $1"
            " UNION SELECT * FROM students WHERE student_id = $2",
            "students",
        ),
    ],
)
def test_statements_that_reach_every_shard_fail(sql: str, offender: str) -> None:
    assert offender in check(sql)


def test_any_is_accepted_only_for_the_bulk_loader() -> None:
    sql = "SELECT DISTINCT district_id FROM schools WHERE district_id = ANY($1::integer[])"
    assert check(sql) == ["schools"]
    assert check(sql, bulk=True) == []


@pytest.mark.parametrize(
    ("sql", "refusal"),
    [
        (
            "SELECT array_agg(ROW(h.hold_id, h.reason)) FROM transcript_holds h"
            " WHERE h.district_id = $1",
            "anonymous ROW",
        ),
        (
            "SELECT (SELECT row (g.as_of) FROM gpa_summaries g WHERE g.district_id = $1)",
            "anonymous ROW",
        ),
        (
            "DELETE FROM test_scores WHERE district_id = $1 AND NOT EXISTS"
            " (SELECT 1 FROM stage_test_scores s WHERE s.score_id = test_scores.score_id)",
            "staging table",
        ),
        (
            "WITH staged AS MATERIALIZED (SELECT * FROM stage_students) INSERT INTO students"
            " SELECT s.* FROM stage_students s WHERE NOT EXISTS (SELECT 1 FROM students t"
            " WHERE t.district_id = $1)",
            "staging table",
        ),
    ],
)
def test_what_a_coordinator_refuses_is_caught(sql: str, refusal: str) -> None:
    assert any(refusal in r for r in coordinator_refusals(sql, DISTRICT_TABLES))


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT array_agg(h.hold_id ORDER BY h.placed_at) FROM transcript_holds h"
        " WHERE h.district_id = $1",
        "WITH staged AS MATERIALIZED (SELECT * FROM stage_test_scores) DELETE FROM test_scores"
        " WHERE district_id = $1 AND NOT EXISTS (SELECT 1 FROM staged s"
        " WHERE s.score_id = test_scores.score_id)",
        "CREATE TEMP TABLE stage_students (LIKE students) ON COMMIT DROP",
        "SELECT arrow FROM students WHERE district_id = $1",
    ],
)
def test_what_a_coordinator_runs_passes(sql: str) -> None:
    assert coordinator_refusals(sql, DISTRICT_TABLES) == []
