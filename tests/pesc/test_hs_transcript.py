"""A StudentRecord renders to a High School Transcript that is valid and says what the record says."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from bench import render as bench_render
from gateway.pesc import NAMESPACES, TRANSCRIPT_VERSIONS, Party, render_transcript, validate
from gateway.pesc.simple_types import decimal, text
from tenants.records import StudentRecord
from tenants.records import TestScore as Score
from tests.pesc.factories import (
    ACCENTED_FIRST_NAME,
    ACCENTED_LAST_NAME,
    LONG_LAST_NAME,
    RecordFactory,
    without_school_ids,
)

NOW = datetime.fromisoformat("2025-02-03T14:05:09+00:00")
CFNC = Party("College Foundation of North Carolina", atp="005521", recipient="Admissions")


def render(record: StudentRecord, version: str = "1.3.0", **overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "version": version,
        "document_id": "GW-2025-000001",
        "created_at": NOW,
        "destination": CFNC,
        "request_tracking_id": "REQ-42",
    }
    arguments.update(overrides)
    return render_transcript(record, **arguments)  # type: ignore[arg-type]


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def first(root: etree._Element, path: str) -> str:
    found = root.findtext(path)
    assert found is not None, f"{path} is missing"
    return found


def course_count(record: StudentRecord) -> int:
    return sum(len(session.courses) for session in record.sessions)


@pytest.mark.parametrize("version", TRANSCRIPT_VERSIONS)
def test_three_hundred_students_are_valid_and_complete(pesc_dir: Path, version: str) -> None:
    records = RecordFactory(seed=300).variety(300)
    for record in records:
        document = render(record, version)
        errors = validate(pesc_dir, f"HighSchoolTranscript {version}", document)  # type: ignore[arg-type]
        assert errors == [], f"{record.student.last_name}: {errors[:3]}"
        assert_content(parse(document), record)


def assert_content(root: etree._Element, record: StudentRecord) -> None:
    """What a renderer that emits an empty but valid document would fail."""
    student = record.student
    person = root.find("Student/Person")
    assert person is not None
    assert first(person, "Name/FirstName") == text(student.first_name, 35)
    assert first(person, "Name/LastName") == text(student.last_name, 35)
    assert first(person, "AgencyAssignedID") == student.student_id
    assert first(person, "AgencyIdentifier/AgencyAssignedID") == student.student_id
    assert first(person, "SchoolAssignedPersonID") == student.local_id
    assert first(person, "Birth/BirthDate") == student.birth_date.isoformat()
    assert first(person, "Gender/GenderCode") == student.gender
    assert len(root.findall("Student/AcademicRecord/AcademicSession")) == len(record.sessions)
    assert len(root.findall("Student/AcademicRecord/AcademicSession/Course")) == course_count(
        record
    )
    main = root.find("Student/AcademicRecord")
    assert main is not None
    assert first(main, "School/OrganizationName") == text(record.school.name, 60)
    if record.gpa is None:
        assert main.find("AcademicSummary") is None
    else:
        weighted = main.xpath("AcademicSummary[AcademicSummaryType='Weighted']/GPA")
        unweighted = main.xpath("AcademicSummary[AcademicSummaryType='NonWeighted']/GPA")
        assert isinstance(weighted, list) and isinstance(unweighted, list)
        assert [g.findtext("GradePointAverage") for g in weighted] == [  # type: ignore[union-attr]
            decimal(record.gpa.gpa_weighted)
        ]
        assert [g.findtext("GradePointAverage") for g in unweighted] == [  # type: ignore[union-attr]
            decimal(record.gpa.gpa_unweighted)
        ]
        assert first(main, "AcademicSummary/GPA/CreditHoursEarned") == decimal(
            record.gpa.credits_earned
        )
    sittings = {(s.test_code, s.test_date) for s in record.test_scores}
    assert len(root.findall("Student/Tests")) == len(sittings)
    assert len(root.findall("Student/Tests/Subtest")) == len(record.test_scores)


def test_only_the_root_is_namespaced_and_there_is_no_default_namespace() -> None:
    # elementFormDefault="unqualified": a default xmlns would make every child invalid.
    record = RecordFactory().record()
    for version in TRANSCRIPT_VERSIONS:
        document = render(record, version)
        root = parse(document)
        assert root.tag == f"{{{NAMESPACES[version]}}}HighSchoolTranscript"
        assert None not in root.nsmap
        assert all(etree.QName(e).namespace is None for e in root.iterdescendants())
        assert b"xmlns=" not in document


def test_bytes_are_utf8_with_an_xml_declaration() -> None:
    record = RecordFactory().record(first_name=ACCENTED_FIRST_NAME)
    document = render(record)
    assert document.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert ACCENTED_FIRST_NAME.encode() in document


def test_transmission_data_names_source_destination_and_tracking(factory: RecordFactory) -> None:
    record = factory.record(district_name="Hoke County Schools")
    data = parse(render(record)).find("TransmissionData")
    assert data is not None
    assert first(data, "DocumentID") == "GW-2025-000001"
    assert first(data, "CreatedDateTime") == "2025-02-03T14:05:09+00:00"
    assert first(data, "DocumentTypeCode") == "Response"
    assert first(data, "TransmissionType") == "Original"
    assert first(data, "DocumentProcessCode") == "PRODUCTION"
    assert first(data, "RequestTrackingID") == "REQ-42"
    source = data.find("Source/Organization")
    assert source is not None
    assert [n.text for n in source.iterfind("OrganizationName")] == [
        record.school.name,
        "Hoke County Schools",
    ]
    assert first(source, "CEEBACT") == record.school.ceeb_code
    assert first(source, "CCD") == record.school.nces_id
    assert first(source, "LocalOrganizationID/LocalOrganizationIDCode") == (
        record.school.state_school_id
    )
    assert first(source, "LocalOrganizationID/LocalOrganizationIDQualifier") == "NC"
    assert first(source, "Contacts/Address/City") == record.school.city
    destination = data.find("Destination/Organization")
    assert destination is not None
    assert first(destination, "ATP") == "005521"
    assert first(destination, "OrganizationName") == "College Foundation of North Carolina"
    assert first(destination, "NoteMessage") == "Recipient: Admissions"


def test_without_a_tracking_id_none_is_written(factory: RecordFactory) -> None:
    root = parse(render(factory.record(), request_tracking_id=None, process_code="TEST"))
    assert root.find("TransmissionData/RequestTrackingID") is None
    assert first(root, "TransmissionData/DocumentProcessCode") == "TEST"


def test_a_ninth_grader_without_courses_has_school_and_level_only(
    pesc_dir: Path, factory: RecordFactory
) -> None:
    record = factory.record(grade_level=9)
    assert record.sessions == () and record.gpa is None and record.test_scores == ()
    document = render(record)
    assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", document) == []
    root = parse(document)
    records = root.findall("Student/AcademicRecord")
    assert len(records) == 1
    assert first(records[0], "StudentLevel/StudentLevelCode") == "NinthGrade"
    assert first(records[0], "CohortGraduationYear") == str(record.student.cohort_year)
    assert records[0].find("AcademicSession") is None
    assert records[0].find("AcademicSummary") is None
    assert root.find("Student/Tests") is None


def test_accented_names_are_kept_and_long_names_clipped_to_the_schema(
    factory: RecordFactory,
) -> None:
    accented = parse(
        render(factory.record(first_name=ACCENTED_FIRST_NAME, last_name=ACCENTED_LAST_NAME))
    )
    assert first(accented, "Student/Person/Name/FirstName") == "Zoë"
    assert first(accented, "Student/Person/Name/LastName") == "Ångström-Núñez"

    long = parse(render(factory.record(last_name=LONG_LAST_NAME)))
    last = first(long, "Student/Person/Name/LastName")
    assert len(LONG_LAST_NAME) > 100
    assert last == LONG_LAST_NAME[:35]


def test_decomposed_accents_are_normalised_to_nfc(factory: RecordFactory) -> None:
    root = parse(render(factory.record(first_name="Zoe\u0308")))  # e + combining diaeresis
    assert first(root, "Student/Person/Name/FirstName") == "Zo\u00eb"


def test_apostrophes_and_ampersands_survive_escaping(factory: RecordFactory) -> None:
    record = factory.record(
        last_name="O'Connor & Daughters", school_name="St. Mary's & St. John's Academy"
    )
    document = render(record)
    assert b"&amp;" in document
    root = parse(document)
    assert first(root, "Student/Person/Name/LastName") == "O'Connor & Daughters"
    assert first(root, "Student/AcademicRecord/School/OrganizationName") == (
        "St. Mary's & St. John's Academy"
    )


def test_transfer_credit_sits_in_the_external_schools_academic_record(
    pesc_dir: Path, factory: RecordFactory
) -> None:
    record = factory.record(transfer=True, grade_level=11)
    external = next(s for s in record.schools.values() if s.kind == "external")
    external_courses = sum(
        len(s.courses) for s in record.sessions if s.school_id == external.school_id
    )
    assert external_courses > 0
    document = render(record, "1.5.0")
    assert validate(pesc_dir, "HighSchoolTranscript 1.5.0", document) == []
    main, other = parse(document).findall("Student/AcademicRecord")
    assert first(main, "School/OrganizationName") == record.school.name
    assert main.find("School/SchoolOverrideCode") is None
    assert first(other, "School/OrganizationName") == external.name
    assert first(other, "School/SchoolOverrideCode") == "Transfer"
    assert first(other, "School/Contacts/Address/StateProvinceCode") == "VA"
    bases = [c.findtext("CourseCreditBasis") for c in other.iterfind("AcademicSession/Course")]
    assert bases == ["HighSchoolTransferCredit"] * external_courses
    main_bases = {c.findtext("CourseCreditBasis") for c in main.iterfind("AcademicSession/Course")}
    assert "HighSchoolTransferCredit" not in main_bases
    assert len(main.findall("AcademicSession/Course")) == course_count(record) - external_courses


def test_a_graduate_has_a_diploma_award(factory: RecordFactory) -> None:
    record = factory.record(graduated=True)
    assert record.student.graduation_date is not None
    root = parse(render(record))
    award = root.find("Student/AcademicRecord/AcademicAward")
    assert award is not None
    assert first(award, "AcademicAwardDate") == record.student.graduation_date.isoformat()
    assert first(award, "AcademicAwardTitle") == record.student.diploma_type
    assert first(award, "AcademicAwardLevel") in {"B18", "B19", "B20"}
    assert first(award, "AcademicCompletionIndicator") == "true"
    weighted = root.find("Student/AcademicRecord/AcademicSummary")
    assert weighted is not None
    assert first(weighted, "ExitDate") == record.student.graduation_date.isoformat()


def test_a_student_still_in_school_has_no_award(factory: RecordFactory) -> None:
    root = parse(render(factory.record(grade_level=11)))
    assert root.find("Student/AcademicRecord/AcademicAward") is None


def test_a_hold_is_not_disclosed_in_the_transcript(factory: RecordFactory) -> None:
    record = factory.record(hold=True, grade_level=12)
    assert record.on_hold
    document = render(record)
    assert record.active_holds[0].reason.encode() not in document
    assert b"Hold" not in document


def test_half_credits_and_marks_are_written_as_pesc_codes(factory: RecordFactory) -> None:
    record = factory.record(grade_level=11)
    courses = list(record.sessions[0].courses)
    courses[0] = replace(courses[0], grade="P", credits_attempted=Decimal("0.50"))
    courses[1] = replace(courses[1], grade="W", credits_earned=Decimal("0.00"))
    courses[2] = replace(courses[2], grade="IP", level="Standard")
    courses[3] = replace(courses[3], grade="B+", level="AP")
    sessions = (replace(record.sessions[0], courses=tuple(courses)), *record.sessions[1:])
    root = parse(render(replace(record, sessions=sessions)))
    rendered = root.findall("Student/AcademicRecord/AcademicSession")[0].findall("Course")
    p, w, ip, ap = rendered[:4]
    assert first(p, "CourseCreditValue") == "0.50"
    assert first(p, "CourseAcademicGradeStatusCode") == "PassFailPass"
    assert first(p, "CourseGPAApplicabilityCode") == "NotApplicable"
    assert first(w, "CourseAcademicGradeStatusCode") == "Withdrew"
    assert first(w, "CourseCreditEarned") == "0.00"
    assert first(ip, "CourseAcademicGradeStatusCode") == "InProgress"
    assert first(ip, "CourseAcademicGrade") == "IP"
    assert ip.find("CourseLevel") is None
    assert first(ap, "CourseLevel") == "AdvancedPlacement"
    assert first(ap, "CourseGPAApplicabilityCode") == "Weighted"
    assert ap.find("CourseAcademicGradeStatusCode") is None
    assert first(ap, "CourseNumber") == courses[3].course_code
    assert first(ap, "CourseTitle") == text(courses[3].title, 60)
    assert first(ap, "CourseQualityPointsEarned") == decimal(courses[3].quality_points)


@pytest.mark.parametrize(
    ("level", "pesc_level", "basis"),
    [
        ("Standard", None, "Regular"),
        ("Honors", "Honors", "Regular"),
        ("AP", "AdvancedPlacement", "Regular"),
        ("IB", "InternationalBaccalaureate", "Regular"),
        ("CollegeCredit", "Dual", "HighSchoolDualCredit"),
        ("Remedial", "Remedial", "Regular"),
    ],
)
def test_course_levels_map_onto_course_level_and_credit_basis(
    factory: RecordFactory, level: str, pesc_level: str | None, basis: str
) -> None:
    record = factory.record(grade_level=10)
    course = replace(record.sessions[0].courses[0], level=level, grade="A")
    session = replace(record.sessions[0], courses=(course,))
    root = parse(render(replace(record, sessions=(session,))))
    element = root.find("Student/AcademicRecord/AcademicSession/Course")
    assert element is not None
    assert element.findtext("CourseLevel") == pesc_level
    assert first(element, "CourseCreditBasis") == basis
    assert first(element, "CourseCreditLevel") == "NinthGrade"


def test_sessions_carry_school_year_term_and_dates(factory: RecordFactory) -> None:
    record = factory.record(grade_level=10)
    root = parse(render(record))
    details = root.findall("Student/AcademicRecord/AcademicSession/AcademicSessionDetail")
    for session, detail in zip(record.sessions, details, strict=True):
        year = session.school_year
        assert first(detail, "SessionSchoolYear") == f"{year - 1}-{year}"
        assert first(detail, "SessionBeginDate") == session.begin_date.isoformat()
        assert first(detail, "SessionEndDate") == session.end_date.isoformat()
        assert first(detail, "SessionDesignator") == session.begin_date.isoformat()[:7]
        expected = {"FullYear": "FullYear", "Semester1": "Semester", "Semester2": "Semester"}
        assert first(detail, "SessionType") == expected[session.term]
        assert first(detail, "SessionName") == session.name


def test_missing_school_ids_are_left_out(pesc_dir: Path, factory: RecordFactory) -> None:
    record = without_school_ids(factory.record())
    document = render(record)
    assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", document) == []
    root = parse(document)
    for path in ("TransmissionData/Source/Organization", "Student/AcademicRecord/School"):
        organization = root.find(path)
        assert organization is not None
        assert organization.find("CEEBACT") is None
        assert organization.find("CCD") is None


def test_class_rank_is_written_only_within_pesc_bounds(factory: RecordFactory) -> None:
    record = factory.record(grade_level=12)
    assert record.gpa is not None
    ranked = replace(record, gpa=replace(record.gpa, class_rank=19, class_size=357))
    summary = parse(render(ranked)).find("Student/AcademicRecord/AcademicSummary")
    assert summary is not None
    assert (first(summary, "ClassRank"), first(summary, "ClassSize")) == ("19", "357")
    assert first(summary, "ClassRankDate") == record.gpa.as_of.isoformat()
    huge = replace(record, gpa=replace(record.gpa, class_rank=19, class_size=12000))
    summary = parse(render(huge)).find("Student/AcademicRecord/AcademicSummary")
    assert summary is not None
    assert summary.find("ClassRank") is None and summary.find("ClassSize") is None


def test_tests_group_scores_by_sitting_with_pesc_codes(factory: RecordFactory) -> None:
    record = factory.record(grade_level=11, tests=False)
    day = record.student.entry_date
    scores = (
        Score("SAT", "EBRW", 650, day),
        Score("SAT", "Math", 700, day),
        Score("SAT", "Total", 1350, day),
        Score("ACT", "Composite", 31, day),
        Score("PSAT", "Math", 600, day),
    )
    root = parse(render(replace(record, test_scores=scores)))
    sat, act, psat = root.findall("Student/Tests")
    assert first(sat, "EducationTestCode") == "SAT"
    assert first(sat, "TestDate") == day.isoformat()
    assert [s.findtext("EducationSubtestCode") for s in sat.iterfind("Subtest")] == [
        None,
        "Math",
        "Total",
    ]
    assert first(sat, "Subtest/SubtestCode") == "EBRW"
    assert [s.findtext("TestScores/ScoreValue") for s in sat.iterfind("Subtest")] == [
        "650",
        "700",
        "1350",
    ]
    assert first(act, "EducationTestCode") == "ACT"
    assert first(act, "Subtest/EducationSubtestCode") == "CompositeScore"
    assert first(psat, "TestCode") == "PSAT"
    assert psat.find("EducationTestCode") is None
    assert first(psat, "TestName") == "PSAT/NMSQT"


def test_bad_arguments_are_refused(factory: RecordFactory) -> None:
    record = factory.record()
    with pytest.raises(ValueError, match="timezone"):
        render(record, created_at=datetime(2025, 1, 1, 12, 0))
    with pytest.raises(ValueError, match="35"):
        render(record, document_id="x" * 36)
    with pytest.raises(ValueError, match="35"):
        render(record, request_tracking_id="")
    with pytest.raises(ValueError, match="version"):
        render(record, version="1.4.0")


def test_a_session_at_an_unknown_school_is_refused(factory: RecordFactory) -> None:
    record = factory.record(grade_level=10)
    broken = replace(record, sessions=(replace(record.sessions[0], school_id=99),))
    with pytest.raises(ValueError, match="school 99"):
        render(broken)


def test_the_render_timing_is_measured_in_bench_not_asserted_here(
    factory: RecordFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    # A wall-clock bound flakes on a loaded machine: `python -m bench.render` measures it.
    assert 28 <= course_count(factory.four_year_student()) <= 32
    assert bench_render.main(["--runs", "3", "--json"]) == 0
    measured = json.loads(capsys.readouterr().out)
    assert set(measured["median_ms"]) == set(TRANSCRIPT_VERSIONS)
    assert all(median > 0 for median in measured["median_ms"].values())


@pytest.mark.parametrize(
    ("code", "element"),
    [("10212X0", "CourseNumber"), ("NC-CTE-2024-ELECTIVE", "AgencyCourseID"), ("X" * 31, None)],
)
def test_course_codes_go_where_they_fit(
    factory: RecordFactory, code: str, element: str | None
) -> None:
    # CourseNumber holds 15 characters, AgencyCourseID 30; a code is never cut.
    record = factory.record(grade_level=10)
    course = replace(record.sessions[0].courses[0], course_code=code)
    session = replace(record.sessions[0], courses=(course,))
    rendered = parse(render(replace(record, sessions=(session,)))).find(
        "Student/AcademicRecord/AcademicSession/Course"
    )
    assert rendered is not None
    found = {e.tag: e.text for e in rendered if e.tag in {"CourseNumber", "AgencyCourseID"}}
    assert found == ({} if element is None else {element: code})
