"""A `StudentRecord` rendered as a PESC High School Transcript (1.3.0 or 1.5.0), as bytes.

The two versions differ, for everything written here, only in the root namespace: both use
the same AcRec:TransmissionDataType / K12StudentType content, and every code written is in
both CoreMain code lists (see `gateway.pesc.codes`). The schemas are `elementFormDefault=
"unqualified"`: the root element is namespaced with a prefix and no other element is; a
default `xmlns=` on the root would put every child in the namespace and make it invalid.

What goes where (AcRec is the AcademicRecord sector library):

    TransmissionData   DocumentID, CreatedDateTime, DocumentTypeCode 'Response',
                       TransmissionType 'Original', Source (the high school: CCD, CEEBACT,
                       state id, school and district names, address), Destination (the Party),
                       DocumentProcessCode, DocumentOfficialCode 'Official', RequestTrackingID
    Student/Person     SchoolAssignedPersonID (local id), AgencyAssignedID and a 'State'
                       AgencyIdentifier (state id), Birth, Name, Gender
    Student/AcademicRecord, one per school, the district's high school first:
                       School; StudentLevel, CohortGraduationYear, AcademicAward (diploma),
                       AcademicSummary (GPA) on the first only; AcademicSession per session
                       with its Courses. Sessions at an external school (a transfer student's
                       earlier school) are in that school's AcademicRecord, whose School has
                       SchoolOverrideCode 'Transfer' and whose courses have CourseCreditBasis
                       'HighSchoolTransferCredit'.
    Student/Tests      one per test sitting (test and date), a Subtest per score

GPA: two AcademicSummary elements, AcademicSummaryType 'Weighted' then 'NonWeighted', each
with GPA (CreditHoursAttempted, CreditHoursEarned, CreditUnit 'CarnegieUnits',
GradePointAverage). ClassRank, ClassSize and ClassRankDate (the GPA's as-of date), the
EntryDate and, for a graduate, the ExitDate are on the weighted summary.

Holds are not rendered: whether a transcript may leave is decided before rendering, and a
hold's reason is not the recipient's business. Values longer than their PESC type are clipped
(names, titles); identifiers that do not fit are left out rather than cut.

Rendering never validates; `gateway.pesc.schemas` does that in tests and on demand.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Final, Literal, get_args

from lxml import etree

from gateway.pesc import codes, elements, simple_types
from gateway.pesc.attribution import sessions_by_school
from gateway.pesc.elements import leaf
from gateway.pesc.party import Party
from tenants.records import Course, School, Session, StudentRecord, TestScore

TranscriptVersion = Literal["1.3.0", "1.5.0"]
ProcessCode = Literal["PRODUCTION", "TEST"]

TRANSCRIPT_VERSIONS: Final[tuple[TranscriptVersion, ...]] = get_args(TranscriptVersion)
DEFAULT_TRANSCRIPT_VERSION: Final[TranscriptVersion] = "1.3.0"
NAMESPACES: Final[dict[TranscriptVersion, str]] = {
    "1.3.0": "urn:org:pesc:message:HighSchoolTranscript:v1.3.0",
    "1.5.0": "urn:org:pesc:message:HighSchoolTranscript:v1.5.0",
}


def transcript_version(value: str) -> TranscriptVersion:
    """`value` as one of TRANSCRIPT_VERSIONS; ValueError if it names none (never a fallback)."""
    for version in TRANSCRIPT_VERSIONS:
        if value == version:
            return version
    raise ValueError(f"pesc_version must be one of {', '.join(TRANSCRIPT_VERSIONS)}.")


SubElement = etree.SubElement
decimal = simple_types.decimal


def render_transcript(
    record: StudentRecord,
    *,
    version: TranscriptVersion = DEFAULT_TRANSCRIPT_VERSION,
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
    return elements.serialize(root)


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
    elements.school_source(SubElement(data, "Source"), record.school, record.district.name)
    elements.party_organization(SubElement(data, "Destination"), destination)
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
    elements.person_name(person, student.first_name, middles, student.last_name,
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
    elements.school_element(academic, record.school, transfer=False)
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
    elements.school_element(academic, school, transfer=transfer)
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
