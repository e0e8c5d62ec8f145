"""A student's transcript, and the students a TranscriptRequest may mean.

`student_record` reads a whole transcript in one round trip: the student with their school,
sessions, courses, GPA, test scores and active holds, aggregated as JSON by Postgres.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
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

_STUDENT_RECORD = """
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
       (SELECT json_agg(json_build_object(
                   'school_id', sc.school_id, 'kind', sc.kind, 'name', sc.name,
                   'nces_id', sc.nces_id, 'ceeb_code', sc.ceeb_code,
                   'state_school_id', sc.state_school_id, 'address_line', sc.address_line,
                   'city', sc.city, 'state_code', sc.state_code,
                   'postal_code', sc.postal_code, 'phone', sc.phone))
          FROM schools sc
         WHERE sc.district_id = $1
           AND (sc.school_id = s.school_id OR sc.school_id IN (SELECT school_id FROM ses))
       ) AS schools,
       (SELECT json_agg(json_build_array(ses.session_id, ses.school_id, ses.school_year,
                        ses.term, ses.name, ses.begin_date, ses.end_date)
                        ORDER BY ses.school_year, ses.begin_date, ses.session_id)
          FROM ses) AS sessions,
       (SELECT json_agg(json_build_array(c.record_id, c.session_id, c.grade_level,
                        c.course_code, c.title, c.level, c.grade, c.credits_attempted,
                        c.credits_earned, c.quality_points) ORDER BY c.record_id)
          FROM c) AS courses,
       (SELECT json_build_array(g.as_of, g.gpa_weighted, g.gpa_unweighted,
                                g.credits_attempted, g.credits_earned, g.class_rank, g.class_size)
          FROM gpa_summaries g WHERE g.district_id = $1 AND g.student_id = $2) AS gpa,
       (SELECT json_agg(json_build_array(t.test_code, t.subtest, t.score, t.test_date)
                        ORDER BY t.test_date, t.score_id)
          FROM test_scores t WHERE t.district_id = $1 AND t.student_id = $2) AS tests,
       (SELECT json_agg(json_build_array(h.hold_id, h.hold_type, h.reason, h.placed_at)
                        ORDER BY h.placed_at)
          FROM transcript_holds h
         WHERE h.district_id = $1 AND h.student_id = $2 AND h.released_at IS NULL) AS holds
  FROM s
"""


def _loads(value: str | None) -> Any:
    # Decimals stay Decimals: GPA 3.675 must not become 3.67499999.
    return json.loads(value, parse_float=Decimal) if value is not None else None


def _school(data: dict[str, Any]) -> School:
    return School(**data)


def _dec(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def build_record(row: Any, district: DistrictInfo) -> StudentRecord:
    """Assemble a StudentRecord from the one row `_STUDENT_RECORD` returns (pure)."""
    schools = {s["school_id"]: _school(s) for s in _loads(row["schools"]) or []}
    courses_by_session: dict[int, list[Course]] = {}
    for rid, sid, level_no, code, title, level, grade, attempted, earned, points in (
        _loads(row["courses"]) or []
    ):
        courses_by_session.setdefault(sid, []).append(
            Course(
                rid,
                level_no,
                code,
                title,
                level,
                grade,
                _dec(attempted),
                _dec(earned),
                _dec(points),
            )
        )
    sessions = tuple(
        Session(
            sid,
            school_id,
            year,
            term,
            name,
            date.fromisoformat(begin),
            date.fromisoformat(end),
            tuple(courses_by_session.get(sid, ())),
        )
        for sid, school_id, year, term, name, begin, end in _loads(row["sessions"]) or []
    )
    gpa_row = _loads(row["gpa"])
    gpa = None
    if gpa_row is not None:
        as_of, weighted, unweighted, attempted, earned, rank, size = gpa_row
        gpa = GpaSummary(
            date.fromisoformat(as_of),
            _dec(weighted),
            _dec(unweighted),
            _dec(attempted),
            _dec(earned),
            rank,
            size,
        )
    tests = tuple(
        TestScore(code, subtest, int(score), date.fromisoformat(taken))
        for code, subtest, score, taken in _loads(row["tests"]) or []
    )
    holds = tuple(
        Hold(hid, kind, reason, datetime.fromisoformat(placed))
        for hid, kind, reason, placed in _loads(row["holds"]) or []
    )
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
