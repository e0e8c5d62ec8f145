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

from gateway.pesc import codes, elements, simple_types
from gateway.pesc.attribution import sessions_by_school
from gateway.pesc.party import Party
from gateway.pesc.writer import XmlWriter, escape
from tenants.records import Course, School, Session, StudentRecord, TestScore

TranscriptVersion = Literal["1.3.0", "1.5.0"]
ProcessCode = Literal["PRODUCTION", "TEST"]

TRANSCRIPT_VERSIONS: Final[tuple[TranscriptVersion, ...]] = get_args(TranscriptVersion)
DEFAULT_TRANSCRIPT_VERSION: Final[TranscriptVersion] = "1.3.0"
NAMESPACES: Final[dict[TranscriptVersion, str]] = {
    "1.3.0": "urn:org:pesc:message:HighSchoolTranscript:v1.3.0",
    "1.5.0": "urn:org:pesc:message:HighSchoolTranscript:v1.5.0",
}
ROOT = "HSTrn:HighSchoolTranscript"


def transcript_version(value: str) -> TranscriptVersion:
    """`value` as one of TRANSCRIPT_VERSIONS; ValueError if it names none (never a fallback)."""
    for version in TRANSCRIPT_VERSIONS:
        if value == version:
            return version
    raise ValueError(f"pesc_version must be one of {', '.join(TRANSCRIPT_VERSIONS)}.")


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
    w = XmlWriter()
    w.open(ROOT, f' xmlns:HSTrn="{namespace}"')
    _transmission_data(
        w, record, document_id, created_at, destination, request_tracking_id, process_code
    )
    _student(w, record)
    w.close(ROOT)
    return w.document()


def _transmission_data(
    w: XmlWriter,
    record: StudentRecord,
    document_id: str,
    created_at: datetime,
    destination: Party,
    request_tracking_id: str | None,
    process_code: ProcessCode,
) -> None:
    # AcRec:TransmissionDataType. 'Response': the transcript answers a consumer's request.
    w.open("TransmissionData")
    w.leaf("DocumentID", simple_types.document_id(document_id))
    w.leaf("CreatedDateTime", simple_types.date_time(created_at))
    w.raw(
        "<DocumentTypeCode>Response</DocumentTypeCode><TransmissionType>Original</TransmissionType>"
    )
    w.open("Source")
    elements.school_source(w, record.school, record.district.name)
    w.close("Source")
    w.open("Destination")
    elements.party_organization(w, destination)
    w.close("Destination")
    w.leaf("DocumentProcessCode", process_code)
    w.raw("<DocumentOfficialCode>Official</DocumentOfficialCode>")
    if request_tracking_id is not None:
        w.leaf("RequestTrackingID", simple_types.document_id(request_tracking_id))
    w.close("TransmissionData")


def _student(w: XmlWriter, record: StudentRecord) -> None:
    # AcRec:K12StudentType: Person, AcademicRecord (1..n), Tests (0..n).
    w.open("Student")
    _person(w, record)
    for school, sessions in sessions_by_school(record):
        if school.school_id == record.school.school_id:
            _main_academic_record(w, record, sessions)
        else:
            _other_academic_record(w, school, sessions)
    _tests(w, record.test_scores)
    w.close("Student")


def _person(w: XmlWriter, record: StudentRecord) -> None:
    # AcRec:K12PersonType order: SchoolAssignedPersonID, AgencyAssignedID, AgencyIdentifier,
    # Birth, Name, Gender. AgencyAssignedID is marked for deprecation, so the state id is
    # also given as an AgencyIdentifier with AgencyCode 'State'.
    student = record.student
    w.open("Person")
    w.leaf("SchoolAssignedPersonID", simple_types.identifier(student.local_id, 20))
    state_id = simple_types.identifier(student.student_id, 30)
    w.leaf("AgencyAssignedID", state_id)
    if state_id is not None:
        w.open("AgencyIdentifier")
        w.leaf("AgencyAssignedID", state_id)
        w.raw("<AgencyCode>State</AgencyCode>")
        if record.school.state_code in codes.STATE_PROVINCE_CODES:
            w.leaf("StateProvinceCode", record.school.state_code)
        w.close("AgencyIdentifier")
    w.open("Birth")
    w.leaf("BirthDate", simple_types.date(student.birth_date))
    w.close("Birth")
    middles = [student.middle_name] if student.middle_name else []
    elements.person_name(w, student.first_name, middles, student.last_name,
                         student.name_suffix)  # fmt: skip
    if student.gender in codes.GENDER_CODES:
        w.open("Gender")
        w.leaf("GenderCode", student.gender)
        w.close("Gender")
    w.close("Person")


def _student_level(w: XmlWriter, level: str | None) -> None:
    if level is not None:
        w.raw(f"<StudentLevel><StudentLevelCode>{escape(level)}</StudentLevelCode></StudentLevel>")


def _main_academic_record(w: XmlWriter, record: StudentRecord, sessions: list[Session]) -> None:
    # AcRec:AcademicRecordType order: School, StudentLevel, CohortGraduationYear,
    # AcademicAward, AcademicSummary, AcademicSession.
    student = record.student
    w.open("AcademicRecord")
    elements.school_element(w, record.school, transfer=False)
    _student_level(w, codes.STUDENT_LEVEL.get(student.grade_level))
    w.leaf("CohortGraduationYear", f"{student.cohort_year:04d}")
    if student.graduation_date is not None:
        # AcRec:AcademicAwardType: level, date, title, completion indicator and date.
        w.open("AcademicAward")
        w.leaf("AcademicAwardLevel", codes.award_level(student.diploma_type))
        w.leaf("AcademicAwardDate", simple_types.date(student.graduation_date))
        title = simple_types.text(student.diploma_type, 400)
        w.leaf("AcademicAwardTitle", title or "High School Diploma")
        w.raw("<AcademicCompletionIndicator>true</AcademicCompletionIndicator>")
        w.leaf("AcademicCompletionDate", simple_types.date(student.graduation_date))
        w.close("AcademicAward")
    _academic_summaries(w, record)
    for session in sessions:
        _session(w, session, transfer=False)
    w.close("AcademicRecord")


def _other_academic_record(w: XmlWriter, school: School, sessions: list[Session]) -> None:
    w.open("AcademicRecord")
    transfer = school.kind == "external"
    elements.school_element(w, school, transfer=transfer)
    for session in sessions:
        _session(w, session, transfer=transfer)
    w.close("AcademicRecord")


def _academic_summaries(w: XmlWriter, record: StudentRecord) -> None:
    gpa = record.gpa
    if gpa is None:
        return
    for summary_type, average in (
        ("Weighted", gpa.gpa_weighted),
        ("NonWeighted", gpa.gpa_unweighted),
    ):
        # AcRec:AcademicSummaryFType: AcademicSummaryType, GPA, ClassRank, ClassSize, then the
        # extension's EntryDate, ExitDate, and the ClassRankDate choice.
        w.open("AcademicSummary")
        w.leaf("AcademicSummaryType", summary_type)
        w.raw(
            f"<GPA><CreditHoursAttempted>{decimal(gpa.credits_attempted)}</CreditHoursAttempted>"
            f"<CreditHoursEarned>{decimal(gpa.credits_earned)}</CreditHoursEarned>"
            "<CreditUnit>CarnegieUnits</CreditUnit>"
            f"<GradePointAverage>{decimal(average)}</GradePointAverage></GPA>"
        )
        if summary_type == "Weighted":
            # core:ClassRankType and ClassSizeType are 1..9999.
            ranked = (
                gpa.class_rank is not None
                and gpa.class_size is not None
                and 1 <= gpa.class_rank <= gpa.class_size <= 9999
            )
            if ranked:
                w.leaf("ClassRank", str(gpa.class_rank))
                w.leaf("ClassSize", str(gpa.class_size))
            w.leaf("EntryDate", simple_types.date(record.student.entry_date))
            if record.student.graduation_date is not None:
                w.leaf("ExitDate", simple_types.date(record.student.graduation_date))
            if ranked:
                w.leaf("ClassRankDate", simple_types.date(gpa.as_of))
        w.close("AcademicSummary")


def _session(w: XmlWriter, session: Session, *, transfer: bool) -> None:
    # AcRec:AcademicSessionType: AcademicSessionDetail, StudentLevel, Course (0..n).
    w.open("AcademicSession")
    w.open("AcademicSessionDetail")
    # core:AcademicSessionDetailType: SessionDesignator (gYearMonth of the start), SessionName,
    # SessionType, SessionSchoolYear ("2023-2024"), SessionBeginDate, SessionEndDate.
    w.leaf("SessionDesignator", simple_types.year_month(session.begin_date))
    w.leaf("SessionName", simple_types.text(session.name, 30))
    w.leaf("SessionType", codes.SESSION_TYPE.get(session.term, "Other"))
    w.leaf("SessionSchoolYear", f"{session.school_year - 1:04d}-{session.school_year:04d}")
    w.leaf("SessionBeginDate", simple_types.date(session.begin_date))
    w.leaf("SessionEndDate", simple_types.date(session.end_date))
    w.close("AcademicSessionDetail")
    if session.courses:
        # The grade most of the session's courses were taken in.
        grade = Counter(c.grade_level for c in session.courses).most_common(1)[0][0]
        _student_level(w, codes.STUDENT_LEVEL.get(grade))
    for course in session.courses:
        w.raw(_course(course, transfer=transfer))
    w.close("AcademicSession")


def _course(course: Course, *, transfer: bool) -> str:
    """One Course element as text: the hot loop of a render (a transcript has ~20-40).

    AcRec:CourseType order: CourseCreditBasis, CourseCreditUnits, CourseCreditLevel,
    CourseCreditValue, CourseCreditEarned, CourseAcademicGrade, CourseAcademicGradeStatusCode,
    CourseQualityPointsEarned, CourseLevel, CourseGPAApplicabilityCode, CourseNumber |
    AgencyCourseID, CourseTitle.
    """
    if transfer:
        basis = "HighSchoolTransferCredit"
    elif course.level == "CollegeCredit":
        basis = "HighSchoolDualCredit"
    else:
        basis = "Regular"
    parts = [
        f"<Course><CourseCreditBasis>{basis}</CourseCreditBasis>"
        "<CourseCreditUnits>CarnegieUnits</CourseCreditUnits>"
    ]
    credit_level = codes.COURSE_CREDIT_LEVEL.get(course.grade_level)
    if credit_level is not None:
        parts.append(f"<CourseCreditLevel>{escape(credit_level)}</CourseCreditLevel>")
    parts.append(
        f"<CourseCreditValue>{decimal(course.credits_attempted)}</CourseCreditValue>"
        f"<CourseCreditEarned>{decimal(course.credits_earned)}</CourseCreditEarned>"
    )
    grade = course.grade
    if 1 <= len(grade) <= 10:  # core:CourseAcademicGradeType
        parts.append(f"<CourseAcademicGrade>{escape(grade)}</CourseAcademicGrade>")
    status = codes.GRADE_STATUS.get(grade)
    if status is not None:
        parts.append(
            f"<CourseAcademicGradeStatusCode>{escape(status)}</CourseAcademicGradeStatusCode>"
        )
    parts.append(
        f"<CourseQualityPointsEarned>{decimal(course.quality_points)}</CourseQualityPointsEarned>"
    )
    level = codes.COURSE_LEVEL.get(course.level)
    if level is not None:
        parts.append(f"<CourseLevel>{escape(level)}</CourseLevel>")
    if status is not None:
        applicability = "NotApplicable"
    elif course.level in codes.WEIGHTED_LEVELS:
        applicability = "Weighted"
    else:
        applicability = "Applicable"
    parts.append(f"<CourseGPAApplicabilityCode>{applicability}</CourseGPAApplicabilityCode>")
    code = simple_types.identifier(course.course_code, 30)
    if code is not None and len(code) <= 15:  # core:CourseNumberType (1..15)
        parts.append(f"<CourseNumber>{escape(code)}</CourseNumber>")
    elif code is not None:  # core:AgencyCourseIDType (1..30); a longer code is left out
        parts.append(f"<AgencyCourseID>{escape(code)}</AgencyCourseID>")
    title = simple_types.text(course.title, 60)
    if title is not None:
        parts.append(f"<CourseTitle>{escape(title)}</CourseTitle>")
    parts.append("</Course>")
    return "".join(parts)


def _tests(w: XmlWriter, scores: tuple[TestScore, ...]) -> None:
    """core:TestsType per sitting (test code and date), a Subtest (with its score) per score."""
    sittings: dict[tuple[str, object], list[TestScore]] = {}
    for score in scores:
        sittings.setdefault((score.test_code, score.test_date), []).append(score)
    for sitting in sittings.values():
        first = sitting[0]
        # core:TestsType: TestCode | EducationTestCode, TestName, TestDate, Subtest (1..n).
        w.open("Tests")
        test = codes.identify_test(first.test_code)
        w.leaf("EducationTestCode", test.education_code)
        w.leaf("TestCode", test.code)
        w.leaf("TestName", test.name)
        w.leaf("TestDate", simple_types.date(first.test_date))
        for score in sitting:
            # core:SubtestsType: SubtestCode | EducationSubtestCode, SubtestName, TestScores.
            w.open("Subtest")
            code = codes.identify_subtest(score.subtest)
            w.leaf("EducationSubtestCode", code.education_code)
            w.leaf("SubtestCode", code.code)
            w.leaf("SubtestName", code.name)
            w.raw(
                f"<TestScores><ScoreValue>{score.score}</ScoreValue>"
                "<TestScoreMethod>Scaled</TestScoreMethod></TestScores>"
            )
            w.close("Subtest")
        w.close("Tests")
