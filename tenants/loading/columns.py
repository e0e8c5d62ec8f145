"""The columns of a district data bundle: names, types, rules and examples, as plain data.

One CSV per district table, named `<table>.csv`, with the table's column names as the header
(sql/district/0001_district_data.sql). This module is the single description of those files:
the validator checks values against it, `gateway data template` writes its headers and
docs/data-formats.md is generated from it (a test keeps the two equal).

`district_id` is never a column the district sends: the loader fills it in. A file MAY carry a
`district_id` column naming the district (its LEA code, or the gateway's numeric id); a row
naming another district is an error, and the database refuses such a row too.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Final

from gateway.ferpa import STUDENT_ID

Parse = Callable[[str], str]
"""Check one non-empty value; return its canonical text for COPY, or raise ValueError(reason)."""


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WHOLE = re.compile(r"[+-]?[0-9]{1,10}")


def _text(limit: int) -> Parse:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        if _CONTROL.search(value):
            raise ValueError("contains a control character")
        return value

    return parse


def _pattern(regex: str, what: str) -> Parse:
    compiled = re.compile(regex)

    def parse(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"not {what}")
        return value

    return parse


def _choice(*allowed: str) -> Parse:
    def parse(value: str) -> str:
        if value not in allowed:
            raise ValueError("not one of " + ", ".join(allowed))
        return value

    return parse


def _integer(low: int, high: int) -> Parse:
    def parse(value: str) -> str:
        if not _WHOLE.fullmatch(value):
            raise ValueError("not a whole number")
        number = int(value)
        if not low <= number <= high:
            raise ValueError(f"not between {low} and {high}")
        return str(number)

    return parse


def _decimal(digits: int, scale: int) -> Parse:
    """At most `digits` before the point (so below 10**digits) and `scale` after it."""
    shape = re.compile(rf"[0-9]{{1,{digits}}}(\.[0-9]{{1,{scale}}})?")
    reason = f"not a decimal number from 0 to below {10**digits} with at most {scale} decimals"

    def parse(value: str) -> str:
        if not shape.fullmatch(value):
            raise ValueError(reason)
        return value

    return parse


def _date(value: str) -> str:
    if not _DATE.fullmatch(value):
        raise ValueError("not a date (YYYY-MM-DD)")
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError("not a calendar date") from None
    if not 1900 <= day.year <= 2100:
        raise ValueError("year not between 1900 and 2100")
    return value


def _timestamp(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("not an ISO 8601 date-time (2024-03-01T09:30:00-05:00)") from None
    if moment.tzinfo is None:
        raise ValueError("date-time without a UTC offset (add Z or -05:00)")
    return moment.isoformat()


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as the documentation names it
    required: bool
    meaning: str
    example: str
    parse: Parse
    allowed: str = ""  # allowed values, as the documentation says them
    # Optional column that, when absent from the header, is numbered 1, 2, ... per student in
    # file order (record_id, score_id, hold_id).
    numbered: bool = False


@dataclass(frozen=True)
class Table:
    name: str
    meaning: str
    columns: tuple[Column, ...]

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @cached_property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def checks(self) -> tuple[tuple[str, bool, Parse], ...]:
        """(name, required, parse) of each column, in order: what the validator runs per row."""
        return tuple((c.name, c.required, c.parse) for c in self.columns)

    def column(self, name: str) -> Column | None:
        return next((c for c in self.columns if c.name == name), None)


_ID = _integer(1, 2_147_483_647)
_YEAR = _integer(1900, 2100)
_CREDITS = _decimal(2, 2)
GRADE_PATTERN: Final = r"([A-DF][+-]?|P|W|IP|[0-9]{1,3}(\.[0-9]{1,2})?)"
_GPA = _decimal(3, 4)

SCHOOLS = Table(
    "schools",
    "The district's high schools, and schools elsewhere that transfer students attended.",
    (
        Column("school_id", "integer", True, "The district's number for the school.", "1", _ID,
               "1 to 2147483647, unique in the file"),
        Column("kind", "text", False, "high: a school of the district; external: another "
               "school a transfer student attended. Default high.", "high",
               _choice("high", "external"), "high, external"),
        Column("name", "text", True, "The school's name.", "Apex High School", _text(200)),
        Column("nces_id", "text", False, "NCES school id.", "370472001983",
               _pattern(r"[0-9]{12}", "12 digits"), "12 digits"),
        Column("ceeb_code", "text", False, "CEEB/ACT code.", "340038",
               _pattern(r"[0-9]{6}", "6 digits"), "6 digits"),
        Column("state_school_id", "text", False, "The state's school number.", "920-304",
               _text(30)),
        Column("address_line", "text", True, "Street address.", "1501 Laura Duncan Rd",
               _text(200)),
        Column("city", "text", True, "City.", "Apex", _text(100)),
        Column("state_code", "text", True, "USPS state code.", "NC",
               _pattern(r"[A-Z]{2}", "two capital letters"), "two capital letters"),
        Column("postal_code", "text", True, "ZIP or ZIP+4.", "27502",
               _pattern(r"[0-9]{5}(-[0-9]{4})?", "a ZIP code (12345 or 12345-6789)"),
               "12345 or 12345-6789"),
        Column("phone", "text", False, "Phone number.", "919-387-2208", _text(30)),
    ),
)  # fmt: skip

ACADEMIC_SESSIONS = Table(
    "academic_sessions",
    "Terms of a school: each course record belongs to one.",
    (
        Column("session_id", "integer", True, "The district's number for the session.", "1",
               _ID, "1 to 2147483647, unique in the file"),
        Column("school_id", "integer", True, "The school (schools.csv or already loaded).", "1",
               _ID),
        Column("school_year", "integer", True, "The calendar year the school year ends in: "
               "2024 is 2023-2024.", "2024", _YEAR, "1900 to 2100"),
        Column("term", "text", True, "Which part of the year.", "Semester1",
               _choice("FullYear", "Semester1", "Semester2", "Summer"),
               "FullYear, Semester1, Semester2, Summer; one per school, year and term"),
        Column("name", "text", True, "The name printed on transcripts.", "Fall 2023",
               _text(100)),
        Column("begin_date", "date", True, "First day.", "2023-08-28", _date, "YYYY-MM-DD"),
        Column("end_date", "date", True, "Last day, not before begin_date.", "2024-01-12",
               _date, "YYYY-MM-DD"),
    ),
)  # fmt: skip

STUDENTS = Table(
    "students",
    "One row per student. In a snapshot, students of the district that the file does not "
    "list are kept as they are and marked not current.",
    (
        Column("student_id", "text", True, "The state's student identifier (NC: the UID).",
               "1000000001", _pattern(STUDENT_ID.pattern, "1-30 letters, digits or -"),
               "1-30 letters, digits or -; unique in the file"),
        Column("local_id", "text", True, "The district's own student number.", "200001",
               _text(30), "unique in the district"),
        Column("school_id", "integer", True, "The school the student attends or graduated "
               "from.", "1", _ID),
        Column("first_name", "text", True, "", "Maya", _text(100)),
        Column("middle_name", "text", False, "", "Grace", _text(100)),
        Column("last_name", "text", True, "", "Okafor", _text(100)),
        Column("name_suffix", "text", False, "", "Jr", _text(20)),
        Column("birth_date", "date", True, "", "2007-04-12", _date, "YYYY-MM-DD"),
        Column("gender", "text", True, "", "Female", _choice("Male", "Female", "Unreported"),
               "Male, Female, Unreported"),
        Column("grade_level", "integer", True, "Current grade (13: a graduate's last grade "
               "plus one).", "12", _integer(6, 13), "6 to 13"),
        Column("cohort_year", "integer", True, "Expected graduation year.", "2025", _YEAR,
               "1900 to 2100"),
        Column("entry_date", "date", True, "First day at the district.", "2021-08-23", _date,
               "YYYY-MM-DD"),
        Column("graduation_date", "date", False, "For graduates.", "", _date, "YYYY-MM-DD"),
        Column("diploma_type", "text", False, "For graduates: the diploma's name.", "",
               _text(200)),
    ),
)  # fmt: skip

COURSE_RECORDS = Table(
    "course_records",
    "Courses taken, with their grades and credits. Every student listed in students.csv has "
    "their course records replaced by the rows here.",
    (
        Column("student_id", "text", True, "A student of students.csv.", "1000000001",
               _text(30)),
        Column("record_id", "integer", False, "Number of the record for this student; "
               "without the column, rows are numbered 1, 2, ... per student in file order.",
               "1", _ID, "unique per student", numbered=True),
        Column("session_id", "integer", True, "The session (academic_sessions.csv or already "
               "loaded).", "1", _ID),
        Column("grade_level", "integer", True, "Grade the course was taken in.", "9",
               _integer(1, 13), "1 to 13"),
        Column("course_code", "text", True, "The state or district course code.", "10212X0",
               _text(30)),
        Column("title", "text", True, "", "English I", _text(200)),
        Column("level", "text", True, "", "Standard",
               _choice("Standard", "Honors", "AP", "IB", "CollegeCredit", "Remedial"),
               "Standard, Honors, AP, IB, CollegeCredit, Remedial"),
        Column("grade", "text", True, "Letter grade, a number grade (0-100), P (pass), "
               "W (withdrawn) or IP (in progress).", "A-",
               _pattern(GRADE_PATTERN, "a grade (A, B+, C-, F, 93, P, W or IP)"),
               "A, A-, B+, ..., F; 0-100 with up to 2 decimals; P, W, IP"),
        Column("credits_attempted", "decimal", True, "", "1.0", _CREDITS,
               "0 to 99.99, 2 decimals"),
        Column("credits_earned", "decimal", True, "", "1.0", _CREDITS,
               "0 to 99.99, 2 decimals"),
        Column("quality_points", "decimal", True, "Grade points earned (credits x points).",
               "3.7", _decimal(4, 3), "0 to 9999.999, 3 decimals"),
    ),
)  # fmt: skip

GPA_SUMMARIES = Table(
    "gpa_summaries",
    "At most one GPA summary per student.",
    (
        Column("student_id", "text", True, "A student of students.csv.", "1000000001",
               _text(30)),
        Column("as_of", "date", True, "When the GPA was computed.", "2024-06-14", _date,
               "YYYY-MM-DD"),
        Column("gpa_weighted", "decimal", True, "", "4.125", _GPA, "0 to 999.9999, 4 decimals"),
        Column("gpa_unweighted", "decimal", True, "", "3.800", _GPA,
               "0 to 999.9999, 4 decimals"),
        Column("credits_attempted", "decimal", True, "", "20.0", _decimal(4, 2),
               "0 to 9999.99"),
        Column("credits_earned", "decimal", True, "", "20.0", _decimal(4, 2),
               "0 to 9999.99"),
        Column("class_rank", "integer", False, "", "12", _ID, "1 to class_size"),
        Column("class_size", "integer", False, "", "412", _ID, "1 or more"),
    ),
)  # fmt: skip

TEST_SCORES = Table(
    "test_scores",
    "College admission test scores.",
    (
        Column("student_id", "text", True, "A student of students.csv.", "1000000001",
               _text(30)),
        Column("score_id", "integer", False, "Number of the score for this student; without "
               "the column, numbered per student in file order.", "1", _ID,
               "unique per student", numbered=True),
        Column("test_code", "text", True, "", "SAT", _choice("SAT", "ACT", "PSAT"),
               "SAT, ACT, PSAT"),
        Column("subtest", "text", True, "Composite, Total, Math, EBRW, English, Reading, "
               "Science, ...", "Total", _text(60)),
        Column("score", "integer", True, "", "1350", _integer(0, 32767), "0 to 32767"),
        Column("test_date", "date", True, "", "2024-03-09", _date, "YYYY-MM-DD"),
    ),
)  # fmt: skip

TRANSCRIPT_HOLDS = Table(
    "transcript_holds",
    "Holds that stop a transcript from leaving (never printed on one).",
    (
        Column("student_id", "text", True, "A student of students.csv.", "1000000001",
               _text(30)),
        Column("hold_id", "integer", False, "Number of the hold for this student; without the "
               "column, numbered per student in file order.", "1", _ID, "unique per student",
               numbered=True),
        Column("hold_type", "text", True, "", "Financial",
               _choice("Financial", "Disciplinary", "Administrative", "RecordsIncomplete"),
               "Financial, Disciplinary, Administrative, RecordsIncomplete"),
        Column("reason", "text", True, "For district staff; never sent to a recipient.",
               "Unpaid textbook fee", _text(500)),
        Column("placed_at", "timestamp", True, "", "2024-02-01T10:00:00-05:00", _timestamp,
               "ISO 8601 with a UTC offset"),
        Column("released_at", "timestamp", False, "Empty while the hold is active.", "",
               _timestamp, "ISO 8601 with a UTC offset"),
    ),
)  # fmt: skip

# In the order they are validated and applied (foreign keys first).
TABLES: Final[tuple[Table, ...]] = (
    SCHOOLS,
    ACADEMIC_SESSIONS,
    STUDENTS,
    COURSE_RECORDS,
    GPA_SUMMARIES,
    TEST_SCORES,
    TRANSCRIPT_HOLDS,
)
BY_NAME: Final[dict[str, Table]] = {t.name: t for t in TABLES}
# The tables whose rows belong to a student: replaced whole for every student a load lists.
STUDENT_TABLES: Final = ("course_records", "gpa_summaries", "test_scores", "transcript_holds")
DISTRICT_COLUMN: Final = "district_id"
