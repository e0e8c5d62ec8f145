"""The transcript as JSON-ready data: the same content as the PESC XML, in a stable shape.

Served for `Accept: application/json`. Keys are snake_case and always present (null when the
record has no value); dates are ISO 8601 (`2024-06-07`), datetimes ISO 8601 with an offset;
decimals are strings in plain notation (`"3.750"`, `"0.50"`) so that no float rounding touches
a GPA or a credit. Values are not clipped to PESC lengths: JSON has none. Holds are left out
for the same reason as in the XML (see `gateway.pesc.hs_transcript`).

    {
      "format": "etranscript-gateway/transcript/v1",
      "document": {
        "document_id": str, "created_at": datetime, "request_tracking_id": str | null,
        "destination": {"name", "ceeb", "atp", "act", "fice", "ipeds", "opeid", "ccd",
                        "recipient"}                      # str | null each
      },
      "district": {"lea_code": str, "name": str},
      "student": {
        "state_id": str, "local_id": str, "first_name": str, "middle_name": str | null,
        "last_name": str, "name_suffix": str | null, "birth_date": date,
        "gender": "Male" | "Female" | "Unreported", "grade_level": int,
        "cohort_year": int, "entry_date": date
      },
      "graduation": {"date": date, "diploma_type": str | null} | null,
      "gpa": {
        "as_of": date, "weighted": decimal, "unweighted": decimal,
        "credits_attempted": decimal, "credits_earned": decimal,
        "class_rank": int | null, "class_size": int | null
      } | null,
      "academic_records": [                    # the district's high school first, then others
        {
          "school": {
            "name": str, "kind": "high" | "external", "nces_id": str | null,
            "ceeb_code": str | null, "state_school_id": str | null,
            "address": {"line": str, "city": str, "state_code": str, "postal_code": str},
            "phone": str | null
          },
          "transfer": bool,                    # true for an external school's credit
          "sessions": [
            {
              "school_year": "2023-2024", "term": "FullYear" | "Semester1" | "Semester2" |
              "Summer", "name": str, "begin_date": date, "end_date": date,
              "courses": [
                {"course_code": str, "title": str, "level": str, "grade_level": int,
                 "grade": str, "credits_attempted": decimal, "credits_earned": decimal,
                 "quality_points": decimal}
              ]
            }
          ]
        }
      ],
      "tests": [                               # one per sitting: test and date
        {"test_code": "SAT" | "ACT" | "PSAT" | str, "test_date": date,
         "scores": [{"subtest": str, "score": int}]}
      ]
    }
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from gateway.pesc import simple_types
from gateway.pesc.attribution import sessions_by_school
from gateway.pesc.party import Party
from tenants.records import Course, School, Session, StudentRecord, TestScore

FORMAT: Final = "etranscript-gateway/transcript/v1"


def transcript_json(
    record: StudentRecord,
    *,
    document_id: str,
    created_at: datetime,
    destination: Party,
    request_tracking_id: str | None = None,
) -> dict[str, Any]:
    """The record in the shape above; same argument contracts as `render_transcript`."""
    student = record.student
    return {
        "format": FORMAT,
        "document": {
            "document_id": simple_types.document_id(document_id),
            "created_at": simple_types.date_time(created_at),
            "request_tracking_id": (
                None if request_tracking_id is None
                else simple_types.document_id(request_tracking_id)
            ),
            "destination": destination.as_dict(),
        },
        "district": {"lea_code": record.district.lea_code, "name": record.district.name},
        "student": {
            "state_id": student.student_id,
            "local_id": student.local_id,
            "first_name": student.first_name,
            "middle_name": student.middle_name,
            "last_name": student.last_name,
            "name_suffix": student.name_suffix,
            "birth_date": student.birth_date.isoformat(),
            "gender": student.gender,
            "grade_level": student.grade_level,
            "cohort_year": student.cohort_year,
            "entry_date": student.entry_date.isoformat(),
        },
        "graduation": (
            None if student.graduation_date is None
            else {
                "date": student.graduation_date.isoformat(),
                "diploma_type": student.diploma_type,
            }
        ),
        "gpa": _gpa(record),
        "academic_records": _academic_records(record),
        "tests": _tests(record.test_scores),
    }  # fmt: skip


def _gpa(record: StudentRecord) -> dict[str, Any] | None:
    gpa = record.gpa
    if gpa is None:
        return None
    return {
        "as_of": gpa.as_of.isoformat(),
        "weighted": simple_types.decimal(gpa.gpa_weighted),
        "unweighted": simple_types.decimal(gpa.gpa_unweighted),
        "credits_attempted": simple_types.decimal(gpa.credits_attempted),
        "credits_earned": simple_types.decimal(gpa.credits_earned),
        "class_rank": gpa.class_rank,
        "class_size": gpa.class_size,
    }


def _academic_records(record: StudentRecord) -> list[dict[str, Any]]:
    return [
        {
            "school": _school(school),
            "transfer": school.kind == "external",
            "sessions": [_session(session) for session in sessions],
        }
        for school, sessions in sessions_by_school(record)
    ]


def _school(school: School) -> dict[str, Any]:
    return {
        "name": school.name,
        "kind": school.kind,
        "nces_id": school.nces_id,
        "ceeb_code": school.ceeb_code,
        "state_school_id": school.state_school_id,
        "address": {
            "line": school.address_line,
            "city": school.city,
            "state_code": school.state_code,
            "postal_code": school.postal_code,
        },
        "phone": school.phone,
    }


def _session(session: Session) -> dict[str, Any]:
    return {
        "school_year": f"{session.school_year - 1:04d}-{session.school_year:04d}",
        "term": session.term,
        "name": session.name,
        "begin_date": session.begin_date.isoformat(),
        "end_date": session.end_date.isoformat(),
        "courses": [_course(course) for course in session.courses],
    }


def _course(course: Course) -> dict[str, Any]:
    return {
        "course_code": course.course_code,
        "title": course.title,
        "level": course.level,
        "grade_level": course.grade_level,
        "grade": course.grade,
        "credits_attempted": simple_types.decimal(course.credits_attempted),
        "credits_earned": simple_types.decimal(course.credits_earned),
        "quality_points": simple_types.decimal(course.quality_points),
    }


def _tests(scores: tuple[TestScore, ...]) -> list[dict[str, Any]]:
    sittings: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for score in scores:
        key = (score.test_code, score.test_date.isoformat())
        sittings.setdefault(key, []).append({"subtest": score.subtest, "score": score.score})
    return [
        {"test_code": code, "test_date": day, "scores": entries}
        for (code, day), entries in sittings.items()
    ]
