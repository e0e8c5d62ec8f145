"""The lxml tree renderer of HSTrn that the string writer replaced, kept as a test oracle.

tests/pesc/test_writer.py renders the same records with both and requires identical bytes:
the writer must say exactly what the tree said. (Copied from gateway/pesc/hs_transcript.py and
gateway/pesc/elements.py as they were before the writer; not used by the gateway.)
"""

# ruff: noqa

from __future__ import annotations

import re
import textwrap
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Final, Literal, get_args

from lxml import etree

from gateway.pesc import codes, simple_types
from gateway.pesc.attribution import sessions_by_school
from gateway.pesc.party import Party
from tenants.records import Course, School, Session, StudentRecord, TestScore

SubElement = etree.SubElement
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'

_PHONE_EXTENSION = re.compile(r"(?i)\s*(?:x|ext\.?)\s*(\d{1,5})\s*$")
_NON_DIGITS = re.compile(r"\D")


def serialize(root: etree._Element) -> bytes:
    """The document as UTF-8 bytes after an XML declaration (lxml's own uses single quotes)."""
    return XML_DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


def leaf(parent: etree._Element, tag: str, value: str | None) -> None:
    """Append `<tag>value</tag>` unless value is None (PESC strings are never empty)."""
    if value is not None:
        SubElement(parent, tag).text = value


def organization_ids(parent: etree._Element, party: Party) -> None:
    """core:OrganizationIDMultiChoiceGroup: OPEID, IPEDS, ATP, FICE, ACT, CCD, CEEBACT (in order)."""
    leaf(parent, "OPEID", party.opeid)
    leaf(parent, "IPEDS", party.ipeds)
    leaf(parent, "ATP", party.atp)
    leaf(parent, "FICE", party.fice)
    leaf(parent, "ACT", party.act)
    leaf(parent, "CCD", party.ccd)
    leaf(parent, "CEEBACT", party.ceeb)


def party_organization(parent: etree._Element, party: Party) -> None:
    """AcRec:OrganizationType `Organization`: ids, OrganizationName, NoteMessage (recipient)."""
    org = SubElement(parent, "Organization")
    organization_ids(org, party)
    leaf(org, "OrganizationName", simple_types.text(party.name, 60))
    if party.recipient:
        leaf(org, "NoteMessage", simple_types.text(f"Recipient: {party.recipient}", 80))


def party_school(parent: etree._Element, party: Party) -> None:
    """AcRec:SchoolType `School` for a party: OrganizationName (required) first, then ids."""
    school = SubElement(parent, "School")
    leaf(school, "OrganizationName", simple_types.text(party.name, 60) or "Unknown")
    organization_ids(school, party)


def school_party(school: School) -> Party:
    """The identifiers of a district school that fit their PESC types, as a `Party`."""
    return Party(
        name=school.name.strip() or None,
        ccd=simple_types.identifier(school.nces_id, 12, 12),
        ceeb=simple_types.identifier(school.ceeb_code, 6, 6),
    )


def school_source(parent: etree._Element, school: School, district_name: str) -> None:
    """TransmissionData Source `Organization`: a district school and its district.

    AcRec:OrganizationType order: ids (CCD, CEEBACT), LocalOrganizationID (the state's school
    id, qualified by the state's code), OrganizationName (school, then district, as in the
    PESC sample transcript), Contacts.
    """
    org = SubElement(parent, "Organization")
    _school_ids(org, school)
    _local_organization_id(org, school)
    leaf(org, "OrganizationName", simple_types.text(school.name, 60))
    leaf(org, "OrganizationName", simple_types.text(district_name, 60))
    _contacts(org, school)


def school_element(parent: etree._Element, school: School, *, transfer: bool) -> None:
    """AcRec:SchoolType `School` for a record's school (AcademicRecord/School).

    Order: OrganizationName, ids, LocalOrganizationID, SchoolOverrideCode ('Transfer' for a
    school the student transferred from), SchoolLevel ('HighSchool' for the district's own;
    an external school's level is not known), Contacts.
    """
    element = SubElement(parent, "School")
    leaf(element, "OrganizationName", simple_types.text(school.name, 60) or "Unknown")
    _school_ids(element, school)
    _local_organization_id(element, school)
    if transfer:
        leaf(element, "SchoolOverrideCode", "Transfer")
    elif school.kind == "high":
        leaf(element, "SchoolLevel", "HighSchool")
    _contacts(element, school)


def person_name(
    parent: etree._Element,
    first: str | None,
    middles: Sequence[str],
    last: str | None,
    suffix: str | None,
) -> None:
    """core:NameType `Name`: FirstName, MiddleName (0..10), LastName, NameSuffix; 35 chars each."""
    name = SubElement(parent, "Name")
    leaf(name, "FirstName", simple_types.text(first, 35))
    for middle in middles[:10]:
        leaf(name, "MiddleName", simple_types.text(middle, 35))
    leaf(name, "LastName", simple_types.text(last, 35))
    leaf(name, "NameSuffix", codes.name_suffix(suffix))


def _school_ids(parent: etree._Element, school: School) -> None:
    # The two a district school has, in group order: CCD (NCES id), then CEEBACT.
    leaf(parent, "CCD", simple_types.identifier(school.nces_id, 12, 12))
    leaf(parent, "CEEBACT", simple_types.identifier(school.ceeb_code, 6, 6))


def _local_organization_id(parent: etree._Element, school: School) -> None:
    code = simple_types.identifier(school.state_school_id, 35)
    if code is not None and school.state_code in codes.STATE_PROVINCE_CODES:
        local = SubElement(parent, "LocalOrganizationID")
        leaf(local, "LocalOrganizationIDCode", code)
        leaf(local, "LocalOrganizationIDQualifier", school.state_code)


def _contacts(parent: etree._Element, school: School) -> None:
    """AcRec:ContactsType with a domestic Address and a Phone; left out if neither fits."""
    lines = _address_lines(school.address_line)
    city = simple_types.text(school.city, 30)
    postal = simple_types.identifier(school.postal_code, 17)
    address_fits = (
        bool(lines)
        and city is not None
        and len(city) >= 2  # core:CityType minLength 2
        and school.state_code in codes.STATE_PROVINCE_CODES
        and postal is not None
    )
    phone = _phone_parts(school.phone)
    if not address_fits and phone is None:
        return
    contacts = SubElement(parent, "Contacts")
    if address_fits:
        # core:GeneralAddressGroup: AddressLine (1..3), City, StateProvinceCode, PostalCode.
        address = SubElement(contacts, "Address")
        for line in lines:
            leaf(address, "AddressLine", line)
        leaf(address, "City", city)
        leaf(address, "StateProvinceCode", school.state_code)
        leaf(address, "PostalCode", postal)
    if phone is not None:
        # core:PhoneType: AreaCityCode (1..5), PhoneNumber (1..11), PhoneNumberExtension.
        area, number, extension = phone
        element = SubElement(contacts, "Phone")
        leaf(element, "AreaCityCode", area)
        leaf(element, "PhoneNumber", number)
        leaf(element, "PhoneNumberExtension", extension)


@lru_cache(maxsize=4096)
def _address_lines(value: str) -> tuple[str, ...]:
    """An address as 1..3 AddressLines of at most 40 characters (core:AddressLineType)."""
    line = simple_types.text(value, 200)
    if line is None:
        return ()
    if len(line) <= 40:
        return (line,)
    return tuple(textwrap.wrap(line, 40)[:3])


@lru_cache(maxsize=4096)
def _phone_parts(value: str | None) -> tuple[str | None, str, str | None] | None:
    """(area code, number, extension) of a North American number, or None if it does not fit."""
    if not value:
        return None
    extension = None
    match = _PHONE_EXTENSION.search(value)
    if match:
        extension = match.group(1)
        value = value[: match.start()]
    digits = _NON_DIGITS.sub("", value)
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) == 10:
        return digits[:3], digits[3:], extension
    if 1 <= len(digits) <= 11:
        return None, digits, extension
    return None


TranscriptVersion = Literal["1.3.0", "1.5.0"]
ProcessCode = Literal["PRODUCTION", "TEST"]

TRANSCRIPT_VERSIONS: Final[tuple[TranscriptVersion, ...]] = get_args(TranscriptVersion)
NAMESPACES: Final[dict[TranscriptVersion, str]] = {
    "1.3.0": "urn:org:pesc:message:HighSchoolTranscript:v1.3.0",
    "1.5.0": "urn:org:pesc:message:HighSchoolTranscript:v1.5.0",
}

SubElement = etree.SubElement
decimal = simple_types.decimal


def render_transcript(
    record: StudentRecord,
    *,
    version: TranscriptVersion = "1.3.0",
    document_id: str,
    created_at: datetime,
    destination: Party,
    request_tracking_id: str | None = None,
    process_code: ProcessCode = "PRODUCTION",
) -> bytes:
    """The record as a HighSchoolTranscript document: UTF-8 bytes with an XML declaration.

    `document_id` and `request_tracking_id` are 1..35 characters and `created_at` is
    timezone-aware; otherwise, or for an unknown version or process code, ValueError. A session whose school
    is missing from `record.schools` is a broken record: ValueError, not a guess.
    """
    namespace = NAMESPACES.get(version)
    if namespace is None:
        raise ValueError(f"unknown High School Transcript version {version!r}")
    if process_code not in ("PRODUCTION", "TEST"):  # core:DocumentProcessCodeType
        raise ValueError(f"unknown DocumentProcessCode {process_code!r}")
    root = etree.Element(f"{{{namespace}}}HighSchoolTranscript", nsmap={"HSTrn": namespace})
    _transmission_data(
        root, record, document_id, created_at, destination, request_tracking_id, process_code
    )
    _student(root, record)
    return serialize(root)


def _transmission_data(
    root: etree._Element,
    record: StudentRecord,
    document_id: str,
    created_at: datetime,
    destination: Party,
    request_tracking_id: str | None,
    process_code: ProcessCode,
) -> None:
    # AcRec:TransmissionDataType. 'Response': the transcript answers a consumer's request.
    data = SubElement(root, "TransmissionData")
    leaf(data, "DocumentID", simple_types.document_id(document_id))
    leaf(data, "CreatedDateTime", simple_types.date_time(created_at))
    leaf(data, "DocumentTypeCode", "Response")
    leaf(data, "TransmissionType", "Original")
    school_source(SubElement(data, "Source"), record.school, record.district.name)
    party_organization(SubElement(data, "Destination"), destination)
    leaf(data, "DocumentProcessCode", process_code)
    leaf(data, "DocumentOfficialCode", "Official")
    if request_tracking_id is not None:
        leaf(data, "RequestTrackingID", simple_types.document_id(request_tracking_id))


def _student(root: etree._Element, record: StudentRecord) -> None:
    # AcRec:K12StudentType: Person, AcademicRecord (1..n), Tests (0..n).
    student = SubElement(root, "Student")
    _person(student, record)
    for school, sessions in sessions_by_school(record):
        if school.school_id == record.school.school_id:
            _main_academic_record(student, record, sessions)
        else:
            _other_academic_record(student, school, sessions)
    _tests(student, record.test_scores)


def _person(parent: etree._Element, record: StudentRecord) -> None:
    # AcRec:K12PersonType order: SchoolAssignedPersonID, AgencyAssignedID, AgencyIdentifier,
    # Birth, Name, Gender. AgencyAssignedID is marked for deprecation, so the state id is
    # also given as an AgencyIdentifier with AgencyCode 'State'.
    student = record.student
    person = SubElement(parent, "Person")
    leaf(person, "SchoolAssignedPersonID", simple_types.identifier(student.local_id, 20))
    state_id = simple_types.identifier(student.student_id, 30)
    leaf(person, "AgencyAssignedID", state_id)
    if state_id is not None:
        agency = SubElement(person, "AgencyIdentifier")
        leaf(agency, "AgencyAssignedID", state_id)
        leaf(agency, "AgencyCode", "State")
        if record.school.state_code in codes.STATE_PROVINCE_CODES:
            leaf(agency, "StateProvinceCode", record.school.state_code)
    leaf(SubElement(person, "Birth"), "BirthDate", simple_types.date(student.birth_date))
    middles = [student.middle_name] if student.middle_name else []
    person_name(person, student.first_name, middles, student.last_name,
                         student.name_suffix)  # fmt: skip
    if student.gender in codes.GENDER_CODES:
        leaf(SubElement(person, "Gender"), "GenderCode", student.gender)


def _main_academic_record(
    parent: etree._Element, record: StudentRecord, sessions: list[Session]
) -> None:
    # AcRec:AcademicRecordType order: School, StudentLevel, CohortGraduationYear,
    # AcademicAward, AcademicSummary, AcademicSession.
    student = record.student
    academic = SubElement(parent, "AcademicRecord")
    school_element(academic, record.school, transfer=False)
    level = codes.STUDENT_LEVEL.get(student.grade_level)
    if level is not None:
        leaf(SubElement(academic, "StudentLevel"), "StudentLevelCode", level)
    leaf(academic, "CohortGraduationYear", f"{student.cohort_year:04d}")
    if student.graduation_date is not None:
        # AcRec:AcademicAwardType: level, date, title, completion indicator and date.
        award = SubElement(academic, "AcademicAward")
        leaf(award, "AcademicAwardLevel", codes.award_level(student.diploma_type))
        leaf(award, "AcademicAwardDate", simple_types.date(student.graduation_date))
        title = simple_types.text(student.diploma_type, 400)
        leaf(award, "AcademicAwardTitle", title or "High School Diploma")
        leaf(award, "AcademicCompletionIndicator", "true")
        leaf(award, "AcademicCompletionDate", simple_types.date(student.graduation_date))
    _academic_summaries(academic, record)
    for session in sessions:
        _session(academic, session, transfer=False)


def _other_academic_record(parent: etree._Element, school: School, sessions: list[Session]) -> None:
    academic = SubElement(parent, "AcademicRecord")
    transfer = school.kind == "external"
    school_element(academic, school, transfer=transfer)
    for session in sessions:
        _session(academic, session, transfer=transfer)


def _academic_summaries(parent: etree._Element, record: StudentRecord) -> None:
    gpa = record.gpa
    if gpa is None:
        return
    for summary_type, average in (
        ("Weighted", gpa.gpa_weighted),
        ("NonWeighted", gpa.gpa_unweighted),
    ):
        # AcRec:AcademicSummaryFType: AcademicSummaryType, GPA, ClassRank, ClassSize, then the
        # extension's EntryDate, ExitDate, and the ClassRankDate choice.
        summary = SubElement(parent, "AcademicSummary")
        leaf(summary, "AcademicSummaryType", summary_type)
        element = SubElement(summary, "GPA")
        leaf(element, "CreditHoursAttempted", decimal(gpa.credits_attempted))
        leaf(element, "CreditHoursEarned", decimal(gpa.credits_earned))
        leaf(element, "CreditUnit", "CarnegieUnits")
        leaf(element, "GradePointAverage", decimal(average))
        if summary_type != "Weighted":
            continue
        # core:ClassRankType and ClassSizeType are 1..9999.
        ranked = (
            gpa.class_rank is not None
            and gpa.class_size is not None
            and 1 <= gpa.class_rank <= gpa.class_size <= 9999
        )
        if ranked:
            leaf(summary, "ClassRank", str(gpa.class_rank))
            leaf(summary, "ClassSize", str(gpa.class_size))
        leaf(summary, "EntryDate", simple_types.date(record.student.entry_date))
        if record.student.graduation_date is not None:
            leaf(summary, "ExitDate", simple_types.date(record.student.graduation_date))
        if ranked:
            leaf(summary, "ClassRankDate", simple_types.date(gpa.as_of))


def _session(parent: etree._Element, session: Session, *, transfer: bool) -> None:
    # AcRec:AcademicSessionType: AcademicSessionDetail, StudentLevel, Course (0..n).
    element = SubElement(parent, "AcademicSession")
    detail = SubElement(element, "AcademicSessionDetail")
    # core:AcademicSessionDetailType: SessionDesignator (gYearMonth of the start), SessionName,
    # SessionType, SessionSchoolYear ("2023-2024"), SessionBeginDate, SessionEndDate.
    leaf(detail, "SessionDesignator", simple_types.year_month(session.begin_date))
    leaf(detail, "SessionName", simple_types.text(session.name, 30))
    leaf(detail, "SessionType", codes.SESSION_TYPE.get(session.term, "Other"))
    leaf(detail, "SessionSchoolYear", f"{session.school_year - 1:04d}-{session.school_year:04d}")
    leaf(detail, "SessionBeginDate", simple_types.date(session.begin_date))
    leaf(detail, "SessionEndDate", simple_types.date(session.end_date))
    if session.courses:
        # The grade most of the session's courses were taken in.
        grade = Counter(c.grade_level for c in session.courses).most_common(1)[0][0]
        level = codes.STUDENT_LEVEL.get(grade)
        if level is not None:
            leaf(SubElement(element, "StudentLevel"), "StudentLevelCode", level)
    for course in session.courses:
        _course(element, course, transfer=transfer)


def _course(parent: etree._Element, course: Course, *, transfer: bool) -> None:
    # AcRec:CourseType order: CourseCreditBasis, CourseCreditUnits, CourseCreditLevel,
    # CourseCreditValue, CourseCreditEarned, CourseAcademicGrade, CourseAcademicGradeStatusCode,
    # CourseQualityPointsEarned, CourseLevel, CourseGPAApplicabilityCode, CourseNumber |
    # AgencyCourseID, CourseTitle. The hot loop of a render: SubElement is called directly.
    element = SubElement(parent, "Course")
    if transfer:
        basis = "HighSchoolTransferCredit"
    elif course.level == "CollegeCredit":
        basis = "HighSchoolDualCredit"
    else:
        basis = "Regular"
    SubElement(element, "CourseCreditBasis").text = basis
    SubElement(element, "CourseCreditUnits").text = "CarnegieUnits"
    credit_level = codes.COURSE_CREDIT_LEVEL.get(course.grade_level)
    if credit_level is not None:
        SubElement(element, "CourseCreditLevel").text = credit_level
    SubElement(element, "CourseCreditValue").text = decimal(course.credits_attempted)
    SubElement(element, "CourseCreditEarned").text = decimal(course.credits_earned)
    grade = course.grade
    if 1 <= len(grade) <= 10:  # core:CourseAcademicGradeType
        SubElement(element, "CourseAcademicGrade").text = grade
    status = codes.GRADE_STATUS.get(grade)
    if status is not None:
        SubElement(element, "CourseAcademicGradeStatusCode").text = status
    SubElement(element, "CourseQualityPointsEarned").text = decimal(course.quality_points)
    level = codes.COURSE_LEVEL.get(course.level)
    if level is not None:
        SubElement(element, "CourseLevel").text = level
    if status is not None:
        applicability = "NotApplicable"
    elif course.level in codes.WEIGHTED_LEVELS:
        applicability = "Weighted"
    else:
        applicability = "Applicable"
    SubElement(element, "CourseGPAApplicabilityCode").text = applicability
    code = simple_types.identifier(course.course_code, 30)
    if code is not None and len(code) <= 15:  # core:CourseNumberType (1..15)
        SubElement(element, "CourseNumber").text = code
    else:  # core:AgencyCourseIDType (1..30); a longer code is left out
        leaf(element, "AgencyCourseID", code)
    leaf(element, "CourseTitle", simple_types.text(course.title, 60))


def _tests(parent: etree._Element, scores: tuple[TestScore, ...]) -> None:
    """core:TestsType per sitting (test code and date), a Subtest (with its score) per score."""
    sittings: dict[tuple[str, object], list[TestScore]] = {}
    for score in scores:
        sittings.setdefault((score.test_code, score.test_date), []).append(score)
    for sitting in sittings.values():
        first = sitting[0]
        # core:TestsType: TestCode | EducationTestCode, TestName, TestDate, Subtest (1..n).
        tests = SubElement(parent, "Tests")
        test = codes.identify_test(first.test_code)
        leaf(tests, "EducationTestCode", test.education_code)
        leaf(tests, "TestCode", test.code)
        leaf(tests, "TestName", test.name)
        leaf(tests, "TestDate", simple_types.date(first.test_date))
        for score in sitting:
            # core:SubtestsType: SubtestCode | EducationSubtestCode, SubtestName, TestScores.
            subtest = SubElement(tests, "Subtest")
            code = codes.identify_subtest(score.subtest)
            leaf(subtest, "EducationSubtestCode", code.education_code)
            leaf(subtest, "SubtestCode", code.code)
            leaf(subtest, "SubtestName", code.name)
            scores_element = SubElement(subtest, "TestScores")
            leaf(scores_element, "ScoreValue", str(score.score))
            leaf(scores_element, "TestScoreMethod", "Scaled")
