"""A student's academic record as plain data: what a transcript is rendered from.

These dataclasses are the contract between the district store (the query that fills them, in
`tenants.queries.transcripts`) and the renderers (`gateway.pesc`, JSON). They hold no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class DistrictInfo:
    lea_code: str
    name: str


@dataclass(frozen=True)
class School:
    school_id: int
    kind: str  # 'high' (of the district) or 'external' (where a transfer student came from)
    name: str
    nces_id: str | None
    ceeb_code: str | None
    state_school_id: str | None
    address_line: str
    city: str
    state_code: str
    postal_code: str
    phone: str | None


@dataclass(frozen=True)
class Course:
    record_id: int
    grade_level: int
    course_code: str
    title: str
    level: str  # Standard, Honors, AP, IB, CollegeCredit, Remedial
    grade: str  # A, B+, ..., F, P, W, IP
    credits_attempted: Decimal
    credits_earned: Decimal
    quality_points: Decimal


@dataclass(frozen=True)
class Session:
    session_id: int
    school_id: int
    school_year: int  # the year the school year ends: 2024 means 2023-2024
    term: str  # FullYear, Semester1, Semester2, Summer
    name: str
    begin_date: date
    end_date: date
    courses: tuple[Course, ...]


@dataclass(frozen=True)
class GpaSummary:
    as_of: date
    gpa_weighted: Decimal
    gpa_unweighted: Decimal
    credits_attempted: Decimal
    credits_earned: Decimal
    class_rank: int | None
    class_size: int | None


@dataclass(frozen=True)
class TestScore:
    test_code: str  # SAT, ACT, PSAT
    subtest: str  # e.g. Composite, Math, EBRW, English, Reading, Science, Total
    score: int
    test_date: date


@dataclass(frozen=True)
class Hold:
    hold_id: int
    hold_type: str  # Financial, Disciplinary, Administrative, RecordsIncomplete
    reason: str
    placed_at: datetime


@dataclass(frozen=True)
class Student:
    student_id: str  # state identifier (NC UID)
    local_id: str
    first_name: str
    middle_name: str | None
    last_name: str
    name_suffix: str | None
    birth_date: date
    gender: str  # Male, Female, Unreported
    grade_level: int
    cohort_year: int
    entry_date: date
    graduation_date: date | None
    diploma_type: str | None


@dataclass(frozen=True)
class StudentRecord:
    """Everything a transcript says about one student of one district."""

    district: DistrictInfo
    student: Student
    school: School  # the district high school the student attends or graduated from
    schools: dict[int, School]  # every school a session refers to, external ones included
    sessions: tuple[Session, ...]  # ordered by school year, then term
    gpa: GpaSummary | None
    test_scores: tuple[TestScore, ...]
    active_holds: tuple[Hold, ...]

    @property
    def on_hold(self) -> bool:
        return bool(self.active_holds)
