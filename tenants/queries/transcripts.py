"""A student's transcript, and the students a TranscriptRequest may mean.

`student_record` reads a whole transcript in one round trip: the student with their school,
sessions, courses, GPA, test scores and active holds, aggregated by Postgres as typed arrays
(binary: asyncpg decodes them without any JSON). Only named types cross the wire: a Citus
coordinator cannot read an anonymous ROW back from a worker ("input of anonymous composite
types is not implemented"), so every nested set is one array per column, and the GPA its
own columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from tenants.records import (
    Course,
    DistrictInfo,
    GpaSummary,
    Hold,
    School,
    Session,
    Student,
    StudentRecord,
    TestScore,
)
from tenants.transaction import TenantConnection

# Each nested set comes back as one typed array per column (a column store of the rows):
# asyncpg decodes a typed array with one codec for all its elements, where an array of
# anonymous ROWs costs a codec lookup per field of every row (issue 16: the course rows were
# most of the client's decoding time). Every array of a set has the same ORDER BY, so the
# elements line up; PostgreSQL sorts each set once for all its aggregates.
_COURSE_ORDER = "ORDER BY c.record_id"
_SESSION_ORDER = "ORDER BY ses.school_year, ses.begin_date, ses.session_id"
_TEST_ORDER = "ORDER BY t.test_date, t.score_id"
_SCHOOL_ORDER = "ORDER BY sc.school_id"
_HOLD_ORDER = "ORDER BY h.placed_at, h.hold_id"


def _columns(alias: str, columns: str, order: str) -> str:
    return ", ".join(f"array_agg({alias}.{c} {order}) AS {alias}_{c}" for c in columns.split())


COURSE_COLUMNS = (
    "record_id session_id grade_level course_code title level grade"
    " credits_attempted credits_earned quality_points"
)
SESSION_COLUMNS = "session_id school_id school_year term name begin_date end_date"
TEST_COLUMNS = "test_code subtest score test_date"
SCHOOL_COLUMNS = (
    "school_id kind name nces_id ceeb_code state_school_id address_line city state_code"
    " postal_code phone"
)
GPA_COLUMNS = (
    "as_of gpa_weighted gpa_unweighted credits_attempted credits_earned class_rank class_size"
)
HOLD_COLUMNS = "hold_id hold_type reason placed_at"

_STUDENT_RECORD = f"""
WITH s AS (
    SELECT * FROM students WHERE district_id = $1 AND student_id = $2
), c AS (
    SELECT * FROM course_records WHERE district_id = $1 AND student_id = $2
), ses AS (
    SELECT * FROM academic_sessions
     WHERE district_id = $1 AND session_id IN (SELECT session_id FROM c)
)
SELECT s.student_id, s.local_id, s.school_id, s.first_name, s.middle_name, s.last_name,
       s.name_suffix, s.birth_date, s.gender, s.grade_level, s.cohort_year, s.entry_date,
       s.graduation_date, s.diploma_type,
       sc_cols.*, ses_cols.*, c_cols.*, t_cols.*, g_cols.*, h_cols.*
  FROM s
 CROSS JOIN LATERAL (
     SELECT {_columns("sc", SCHOOL_COLUMNS, _SCHOOL_ORDER)}
       FROM schools sc
      WHERE sc.district_id = $1
        AND (sc.school_id = s.school_id OR sc.school_id IN (SELECT school_id FROM ses))
 ) sc_cols
 CROSS JOIN LATERAL (SELECT {_columns("ses", SESSION_COLUMNS, _SESSION_ORDER)} FROM ses) ses_cols
 CROSS JOIN LATERAL (SELECT {_columns("c", COURSE_COLUMNS, _COURSE_ORDER)} FROM c) c_cols
 CROSS JOIN LATERAL (
     SELECT {_columns("t", TEST_COLUMNS, _TEST_ORDER)}
       FROM test_scores t WHERE t.district_id = $1 AND t.student_id = $2
 ) t_cols
 LEFT JOIN LATERAL (
     SELECT {", ".join(f"g.{c} AS g_{c}" for c in GPA_COLUMNS.split())}
       FROM gpa_summaries g WHERE g.district_id = $1 AND g.student_id = $2
 ) g_cols ON true
 CROSS JOIN LATERAL (
     SELECT {_columns("h", HOLD_COLUMNS, _HOLD_ORDER)}
       FROM transcript_holds h
      WHERE h.district_id = $1 AND h.student_id = $2 AND h.released_at IS NULL
 ) h_cols
"""  # noqa: S608 - every interpolated name is a constant of this module


def _rows(row: Any, alias: str, columns: str) -> list[tuple[Any, ...]]:
    """The set's rows again, from its column arrays (NULL arrays: no rows)."""
    arrays = [row[f"{alias}_{c}"] for c in columns.split()]
    if arrays[0] is None:
        return []
    return list(zip(*arrays, strict=True))


def build_record(row: Any, district: DistrictInfo) -> StudentRecord:
    """Assemble a StudentRecord from the one row `_STUDENT_RECORD` returns (pure).

    The nested sets arrive as typed arrays (numeric as Decimal, date as date), which asyncpg
    decodes in C: no JSON to parse, and no float ever stands between the database and a GPA."""
    schools = {s[0]: School(*s) for s in _rows(row, "sc", SCHOOL_COLUMNS)}
    courses_by_session: dict[int, list[Course]] = {}
    for rid, sid, level_no, code, title, level, grade, attempted, earned, points in _rows(
        row, "c", COURSE_COLUMNS
    ):
        courses_by_session.setdefault(sid, []).append(
            Course(rid, level_no, code, title, level, grade, attempted, earned, points)
        )
    sessions = tuple(
        Session(
            sid, school_id, year, term, name, begin, end, tuple(courses_by_session.get(sid, ()))
        )
        for sid, school_id, year, term, name, begin, end in _rows(row, "ses", SESSION_COLUMNS)
    )
    gpa = (
        GpaSummary(*(row[f"g_{c}"] for c in GPA_COLUMNS.split()))
        if row["g_as_of"] is not None
        else None
    )
    tests = tuple(TestScore(*t) for t in _rows(row, "t", TEST_COLUMNS))
    holds = tuple(Hold(*h) for h in _rows(row, "h", HOLD_COLUMNS))
    student = Student(
        student_id=row["student_id"],
        local_id=row["local_id"],
        first_name=row["first_name"],
        middle_name=row["middle_name"],
        last_name=row["last_name"],
        name_suffix=row["name_suffix"],
        birth_date=row["birth_date"],
        gender=row["gender"],
        grade_level=row["grade_level"],
        cohort_year=row["cohort_year"],
        entry_date=row["entry_date"],
        graduation_date=row["graduation_date"],
        diploma_type=row["diploma_type"],
    )
    return StudentRecord(
        district=district,
        student=student,
        school=schools[row["school_id"]],
        schools=schools,
        sessions=sessions,
        gpa=gpa,
        test_scores=tests,
        active_holds=holds,
    )


async def student_record(tx: TenantConnection, student_id: str) -> StudentRecord | None:
    """The student's whole record in one round trip, or None (no such student here)."""
    row = await tx.fetchrow(_STUDENT_RECORD, tx.district_id, student_id)
    if row is None:
        return None
    return build_record(row, DistrictInfo(tx.district.lea_code, tx.district.name))


@dataclass(frozen=True)
class Candidate:
    """A student a TranscriptRequest might mean (for matching; no record content)."""

    student_id: str
    local_id: str
    first_name: str
    last_name: str
    birth_date: date


_CANDIDATES = (
    "SELECT student_id, local_id, first_name, last_name, birth_date FROM students"
    " WHERE district_id = $1 AND (student_id = $2 OR local_id = $3 OR birth_date = $4)"
)


async def candidates(
    tx: TenantConnection, *, state_id: str | None, local_id: str | None, birth_date: date | None
) -> list[Candidate]:
    """Students matching any of the identifiers given (the caller narrows by name)."""
    rows = await tx.fetch(_CANDIDATES, tx.district_id, state_id, local_id, birth_date)
    return [Candidate(**dict(r)) for r in rows]
