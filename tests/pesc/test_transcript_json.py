"""The JSON rendering has the documented, stable shape and the same content as the XML."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

import pytest
from lxml import etree

from gateway.pesc import Party, render_transcript, transcript_json
from tests.pesc.factories import LONG_LAST_NAME, RecordFactory

TOP_LEVEL = {
    "format",
    "document",
    "district",
    "student",
    "graduation",
    "gpa",
    "academic_records",
    "tests",
}
STUDENT = {
    "state_id",
    "local_id",
    "first_name",
    "middle_name",
    "last_name",
    "name_suffix",
    "birth_date",
    "gender",
    "grade_level",
    "cohort_year",
    "entry_date",
}
GPA = {
    "as_of",
    "weighted",
    "unweighted",
    "credits_attempted",
    "credits_earned",
    "class_rank",
    "class_size",
}
SCHOOL = {"name", "kind", "nces_id", "ceeb_code", "state_school_id", "address", "phone"}
SESSION = {"school_year", "term", "name", "begin_date", "end_date", "courses"}
COURSE = {
    "course_code",
    "title",
    "level",
    "grade_level",
    "grade",
    "credits_attempted",
    "credits_earned",
    "quality_points",
}
DESTINATION = {"name", "ceeb", "atp", "act", "fice", "ipeds", "opeid", "ccd", "recipient"}


def as_json(record: object, cfnc: Party, now: datetime, **overrides: object) -> dict[str, object]:
    arguments: dict[str, object] = {
        "document_id": "GW-1",
        "created_at": now,
        "destination": cfnc,
        "request_tracking_id": "REQ-1",
    }
    arguments.update(overrides)
    return transcript_json(record, **arguments)  # type: ignore[arg-type]


def test_shape_is_the_documented_one(factory: RecordFactory, cfnc: Party, now: datetime) -> None:
    record = factory.record(graduated=True, tests=True, transfer=True)
    data = as_json(record, cfnc, now)
    # Round-trips through the standard library: no Decimal, date or datetime objects remain.
    assert json.loads(json.dumps(data)) == data
    assert set(data) == TOP_LEVEL
    assert data["format"] == "etranscript-gateway/transcript/v1"
    document = data["document"]
    assert isinstance(document, dict)
    assert document == {
        "document_id": "GW-1",
        "created_at": "2025-02-03T14:05:09+00:00",
        "request_tracking_id": "REQ-1",
        "destination": cfnc.as_dict(),
    }
    assert set(document["destination"]) == DESTINATION
    student = data["student"]
    assert isinstance(student, dict) and set(student) == STUDENT
    assert student["state_id"] == record.student.student_id
    assert student["birth_date"] == record.student.birth_date.isoformat()
    assert data["graduation"] == {
        "date": record.student.graduation_date.isoformat(),  # type: ignore[union-attr]
        "diploma_type": record.student.diploma_type,
    }
    gpa = data["gpa"]
    assert isinstance(gpa, dict) and set(gpa) == GPA
    assert record.gpa is not None
    assert Decimal(gpa["weighted"]) == record.gpa.gpa_weighted
    assert isinstance(gpa["weighted"], str)
    records = data["academic_records"]
    assert isinstance(records, list)
    assert [r["transfer"] for r in records] == [False, True]
    for entry in records:
        assert set(entry) == {"school", "transfer", "sessions"}
        assert set(entry["school"]) == SCHOOL
        for session in entry["sessions"]:
            assert set(session) == SESSION
            for course in session["courses"]:
                assert set(course) == COURSE
                assert isinstance(course["credits_attempted"], str)
    courses = sum(len(s["courses"]) for r in records for s in r["sessions"])
    assert courses == sum(len(s.courses) for s in record.sessions)
    tests = data["tests"]
    assert isinstance(tests, list) and tests
    assert set(tests[0]) == {"test_code", "test_date", "scores"}
    assert sum(len(t["scores"]) for t in tests) == len(record.test_scores)


def test_decimals_keep_their_scale_and_never_use_exponents(
    factory: RecordFactory, cfnc: Party, now: datetime
) -> None:
    record = factory.record(grade_level=10)
    course = replace(
        record.sessions[0].courses[0],
        credits_attempted=Decimal("0.50"),
        quality_points=Decimal("1E+1"),
    )
    session = replace(record.sessions[0], courses=(course,))
    data = as_json(replace(record, sessions=(session,)), cfnc, now)
    records = data["academic_records"]
    assert isinstance(records, list)
    rendered = records[0]["sessions"][0]["courses"][0]
    assert rendered["credits_attempted"] == "0.50"
    assert rendered["quality_points"] == "10"
    assert records[0]["sessions"][0]["school_year"] == (
        f"{session.school_year - 1}-{session.school_year}"
    )


def test_absent_values_are_null_not_missing(
    factory: RecordFactory, cfnc: Party, now: datetime
) -> None:
    data = as_json(factory.record(grade_level=9), cfnc, now, request_tracking_id=None)
    assert data["gpa"] is None
    assert data["graduation"] is None
    assert data["tests"] == []
    document = data["document"]
    assert isinstance(document, dict) and document["request_tracking_id"] is None
    records = data["academic_records"]
    assert isinstance(records, list) and len(records) == 1 and records[0]["sessions"] == []


def test_names_are_not_clipped_in_json(factory: RecordFactory, cfnc: Party, now: datetime) -> None:
    record = factory.record(last_name=LONG_LAST_NAME)
    data = as_json(record, cfnc, now)
    student = data["student"]
    assert isinstance(student, dict) and student["last_name"] == LONG_LAST_NAME
    xml = etree.fromstring(
        render_transcript(record, document_id="GW-1", created_at=now, destination=cfnc)
    )
    assert xml.findtext("Student/Person/Name/LastName") == LONG_LAST_NAME[:35]


def test_same_argument_contracts_as_the_xml(
    factory: RecordFactory, cfnc: Party, now: datetime
) -> None:
    with pytest.raises(ValueError, match="timezone"):
        as_json(factory.record(), cfnc, now.replace(tzinfo=None))
    with pytest.raises(ValueError, match="35"):
        as_json(factory.record(), cfnc, now, document_id="x" * 40)
