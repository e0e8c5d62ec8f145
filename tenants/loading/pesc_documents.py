"""PESC High School Transcript documents (1.3.0, 1.5.0) mapped onto the district tables.

One document per student: a single file, a folder or a zip of them, UTF-8 or UTF-16 with a
byte order mark (the XML declaration names the encoding; libxml2 reads both). Each document
is parsed on its own with the untrusted-XML rules of TranscriptRequests
(`gateway.pesc.untrusted_xml`: size bound, no DTD, no entities, no network), so memory is
bounded by one document.

What is read (AcRec = the AcademicRecord sector library; elements are unqualified):

    Student/Person        AgencyIdentifier with AgencyCode 'State' -> student_id (else
                          Person/AgencyAssignedID); SchoolAssignedPersonID -> local_id; Birth/
                          BirthDate; the Legal (else first) Name; Gender/GenderCode
    AcademicRecord        the first is the student's school (its School, else TransmissionData/
                          Source/Organization): StudentLevel -> grade_level, CohortGraduationYear,
                          AcademicAward (completed: graduation_date, diploma_type),
                          AcademicSummary (GPA, ClassRank, ClassSize, EntryDate); a later
                          AcademicRecord whose School has SchoolOverrideCode 'Transfer' is an
                          external school
    AcademicSession       SessionDesignator / SessionBeginDate / SessionEndDate /
                          SessionSchoolYear / SessionName / SessionType -> a session; its
                          Courses -> course records (CourseNumber or AgencyCourseID, CourseTitle,
                          CourseAcademicGrade, CourseCreditValue, CourseCreditEarned,
                          CourseQualityPointsEarned, CourseLevel or CourseCreditBasis -> level)
    Student/Tests         SAT, ACT and PSAT sittings -> test scores

Data minimisation: nothing else is stored. An SSN, ethnicity, parents, the student's address
and other tests are read past, never kept.

Schools and sessions have no district number in a transcript, so theirs are derived from what
identifies them (a school's CEEB code, else a digest of its NCES id and name; a session's
school, year and term): the same school gets the same id in every load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Final

from lxml import etree

from gateway.pesc import codes
from gateway.pesc.errors import DocumentTooLarge, MalformedDocument
from gateway.pesc.untrusted_xml import parse_untrusted
from tenants.loading.columns import (
    ACADEMIC_SESSIONS,
    COURSE_RECORDS,
    GPA_SUMMARIES,
    SCHOOLS,
    STUDENTS,
    TEST_SCORES,
    Table,
)
from tenants.loading.problems import ProblemLog
from tenants.loading.sources import READ_ERRORS, Source
from tenants.loading.validator import Validator, Where

MAX_DOCUMENT_BYTES: Final = 16 * 1024 * 1024
_NAMESPACES: Final = frozenset(
    {
        "urn:org:pesc:message:HighSchoolTranscript:v1.3.0",
        "urn:org:pesc:message:HighSchoolTranscript:v1.5.0",
    }
)
_LEVELS: Final = {code: grade for grade, code in codes.STUDENT_LEVEL.items()}
_COURSE_LEVELS: Final = {code: level for level, code in codes.COURSE_LEVEL.items()}
_BASIS_LEVELS: Final = {
    "AdvancedPlacement": "AP",
    "InternationalBaccalaureate": "IB",
    "HighSchoolDualCredit": "CollegeCredit",
}
_GRADE_FROM_STATUS: Final = {"InProgress": "IP", "Withdrew": "W", "PassFailPass": "P"}
_TESTS: Final = ("PSAT", "SAT", "ACT")  # PSAT first: "SAT" is in "PSAT"

Row = dict[str, str]
Paths = dict[str, str]


def _local(element: etree._Element) -> str:
    tag = element.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(parent: etree._Element | None, name: str) -> Iterator[etree._Element]:
    if parent is None:
        return
    for child in parent:
        if _local(child) == name:
            yield child


def _child(parent: etree._Element | None, *path: str) -> etree._Element | None:
    node = parent
    for name in path:
        node = next(_children(node, name), None)
        if node is None:
            return None
    return node


def _text(parent: etree._Element | None, *path: str) -> str:
    node = _child(parent, *path)
    return (node.text or "").strip() if node is not None else ""


def stable_id(*parts: str) -> int:
    """A positive 31-bit id from what identifies a thing (same input, same id)."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFF_FFFF or 1


def read_documents(
    source: Source,
    validator: Validator,
    problems: ProblemLog,
    *,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Validate every document of the source, staging the rows they map to."""
    reader = _Reader(validator, problems)
    done = 0
    # Students first for every document would need two passes; instead each document's
    # rows go in table order (school, sessions, student, then the student's rows).
    for member in source.members:
        if not member.base.endswith(".xml"):
            problems.add(member.name, "not a PESC document (.xml)")
            continue
        if member.size > MAX_DOCUMENT_BYTES:
            problems.add(
                member.name,
                f"{member.size} bytes; a transcript may have at most {MAX_DOCUMENT_BYTES}",
            )
            continue
        try:
            with member.open() as stream:
                data = stream.read(MAX_DOCUMENT_BYTES + 1)
        except READ_ERRORS as exc:
            problems.add(member.name, f"cannot be read whole (truncated or damaged?): {exc}")
            continue
        reader.document(member.name, data)
        done += member.size
        if progress is not None:
            progress(done)


class _Reader:
    def __init__(self, validator: Validator, problems: ProblemLog) -> None:
        self.validator = validator
        self.problems = problems
        self.schools: set[int] = set()
        self.sessions: set[int] = set()

    def document(self, name: str, data: bytes) -> None:
        try:
            tree = parse_untrusted(data, max_bytes=MAX_DOCUMENT_BYTES, what="transcript")
        except (MalformedDocument, DocumentTooLarge) as exc:
            self.problems.add(name, str(exc))
            return
        root = tree.getroot()
        namespace = etree.QName(root.tag).namespace if isinstance(root.tag, str) else None
        if _local(root) != "HighSchoolTranscript" or namespace not in _NAMESPACES:
            self.problems.add(
                name,
                f"not a PESC High School Transcript 1.3.0 or 1.5.0 document (root {root.tag})",
                line=_line(root),
            )
            return
        _Document(self, name, tree).read()


class _Document:
    def __init__(self, reader: _Reader, name: str, tree: etree._ElementTree) -> None:
        self.reader = reader
        self.name = name
        self.tree = tree
        self.root = tree.getroot()
        self.student = _child(self.root, "Student")

    def path(self, element: etree._Element | None, *tail: str) -> str:
        base = self.tree.getpath(element) if element is not None else "/HighSchoolTranscript"
        return "/".join((base, *tail))

    def problem(self, element: etree._Element | None, reason: str) -> None:
        line = _line(element)
        self.reader.problems.add(self.name, reason, line=line, column=self.path(element))

    def emit(self, table: Table, row: Row, paths: Paths, element: etree._Element | None) -> bool:
        line = _line(element)
        return self.reader.validator.row(table, row, Where(self.name, line, paths))

    def read(self) -> None:
        if self.student is None:
            self.problem(self.root, "no Student element")
            return
        records = list(_children(self.student, "AcademicRecord"))
        if not records:
            self.problem(self.student, "no AcademicRecord element")
            return
        main_school = self.school(records[0], main=True)
        if main_school is None:
            return
        sessions: list[tuple[etree._Element, int, int | None]] = []
        for index, record in enumerate(records):
            school_id = main_school if index == 0 else self.school(record, main=False)
            if school_id is None:
                return
            level = _LEVELS.get(_text(record, "StudentLevel", "StudentLevelCode"))
            for session in _children(record, "AcademicSession"):
                session_id = self.session(session, school_id)
                if session_id is None:
                    return
                sessions.append((session, session_id, level))
        student_id = self.person(records[0], main_school, [s for s, _, _ in sessions])
        if student_id is None:
            return
        for session, session_id, level in sessions:
            grade = _LEVELS.get(_text(session, "StudentLevel", "StudentLevelCode")) or level
            for course in _children(session, "Course"):
                self.course(course, student_id, session_id, grade)
        self.gpa(records[0], student_id, sessions)
        for tests in _children(self.student, "Tests"):
            self.tests(tests, student_id)

    # --- schools and sessions -------------------------------------------------------------
    def school(self, record: etree._Element, *, main: bool) -> int | None:
        element = _child(record, "School")
        if element is None and main:
            element = _child(self.root, "TransmissionData", "Source", "Organization")
        if element is None:
            self.problem(record, "no School (nor TransmissionData/Source/Organization)")
            return None
        ceeb = _text(element, "CEEBACT") or _text(element, "ACT")
        nces = _text(element, "CCD") or _text(element, "NCES")
        name = _text(element, "OrganizationName")
        school_id = int(ceeb) if ceeb.isdigit() and len(ceeb) == 6 else stable_id(nces, name)
        if school_id in self.reader.schools:
            return school_id
        address = _child(element, "Contacts", "Address")
        phone = _child(element, "Contacts", "Phone")
        row: Row = {
            "school_id": str(school_id),
            "kind": "external" if _text(element, "SchoolOverrideCode") == "Transfer" else "high",
            "name": name,
            "nces_id": nces,
            "ceeb_code": ceeb,
            "state_school_id": _text(element, "LocalOrganizationID", "LocalOrganizationIDCode"),
            "address_line": " ".join(
                (a.text or "").strip() for a in _children(address, "AddressLine")
            ),
            "city": _text(address, "City"),
            "state_code": _text(address, "StateProvinceCode"),
            "postal_code": _text(address, "PostalCode")[:10],
            "phone": _phone(_text(phone, "AreaCityCode"), _text(phone, "PhoneNumber")),
        }
        paths = {
            "school_id": self.path(element, "CEEBACT"),
            "name": self.path(element, "OrganizationName"),
            "nces_id": self.path(element, "CCD"),
            "ceeb_code": self.path(element, "CEEBACT"),
            "address_line": self.path(element, "Contacts/Address/AddressLine"),
            "city": self.path(element, "Contacts/Address/City"),
            "state_code": self.path(element, "Contacts/Address/StateProvinceCode"),
            "postal_code": self.path(element, "Contacts/Address/PostalCode"),
        }
        if not self.emit(SCHOOLS, row, paths, element):
            return None
        self.reader.schools.add(school_id)
        return school_id

    def session(self, element: etree._Element, school_id: int) -> int | None:
        detail = _child(element, "AcademicSessionDetail")
        begin_text = _text(detail, "SessionBeginDate")
        designator = _text(detail, "SessionDesignator")
        try:
            begin = date.fromisoformat(begin_text or designator + "-01")
        except ValueError:
            self.problem(
                detail if detail is not None else element,
                "a session needs SessionBeginDate or SessionDesignator (YYYY-MM)",
            )
            return None
        name = _text(detail, "SessionName")
        term = _term(_text(detail, "SessionType"), begin, name)
        year_text = _text(detail, "SessionSchoolYear")
        school_year = (
            int(year_text[-4:])
            if year_text[-4:].isdigit()
            else (begin.year + 1 if begin.month >= 7 else begin.year)
        )
        session_id = stable_id(str(school_id), str(school_year), term)
        if session_id in self.reader.sessions:
            return session_id
        end = _text(detail, "SessionEndDate") or _end(term, begin, school_year).isoformat()
        row: Row = {
            "session_id": str(session_id),
            "school_id": str(school_id),
            "school_year": str(school_year),
            "term": term,
            "name": name or f"{term} {school_year}",
            "begin_date": begin.isoformat(),
            "end_date": end,
        }
        paths = {c: self.path(detail, "SessionDesignator") for c in row}
        paths["end_date"] = self.path(detail, "SessionEndDate")
        if not self.emit(ACADEMIC_SESSIONS, row, paths, detail):
            return None
        self.reader.sessions.add(session_id)
        return session_id

    # --- the student ----------------------------------------------------------------------
    def person(
        self, record: etree._Element, school_id: int, sessions: list[etree._Element]
    ) -> str | None:
        assert self.student is not None
        person = _child(self.student, "Person")
        if person is None:
            self.problem(self.student, "no Person element")
            return None
        state_id = next(
            (
                _text(a, "AgencyAssignedID")
                for a in _children(person, "AgencyIdentifier")
                if _text(a, "AgencyCode") == "State"
            ),
            "",
        ) or _text(person, "AgencyAssignedID")
        if not state_id:
            self.problem(person, "no state student id (AgencyIdentifier with AgencyCode State)")
            return None
        names = list(_children(person, "Name"))
        name = next(
            (n for n in names if _text(n, "NameCode") == "Legal"), names[0] if names else None
        )
        award = _child(record, "AcademicAward")
        completed = award is not None and (
            _text(award, "AcademicCompletionIndicator") == "true"
            or bool(_text(award, "AcademicCompletionDate"))
        )
        graduated = (
            (_text(award, "AcademicCompletionDate") or _text(award, "AcademicAwardDate"))
            if completed
            else ""
        )
        grade = _LEVELS.get(_text(record, "StudentLevel", "StudentLevelCode"))
        cohort = _text(record, "CohortGraduationYear") or (graduated[:4] if graduated else "")
        first_session = min((b for s in sessions if (b := _begin(s)) is not None), default=None)
        summary = _child(record, "AcademicSummary")
        entry = _text(summary, "EntryDate") or (first_session.isoformat() if first_session else "")
        if not cohort and grade is not None:
            today_year = date.today().year
            cohort = str(today_year + max(0, 12 - grade))
        gender = _text(person, "Gender", "GenderCode")
        row: Row = {
            "student_id": state_id,
            "local_id": _text(person, "SchoolAssignedPersonID") or state_id,
            "school_id": str(school_id),
            "first_name": _text(name, "FirstName"),
            "middle_name": " ".join((m.text or "").strip() for m in _children(name, "MiddleName")),
            "last_name": _text(name, "LastName"),
            "name_suffix": _text(name, "NameSuffix"),
            "birth_date": _text(person, "Birth", "BirthDate"),
            "gender": gender if gender in ("Male", "Female") else "Unreported",
            "grade_level": str(grade or ""),
            "cohort_year": cohort,
            "entry_date": entry,
            "graduation_date": graduated,
            "diploma_type": _text(award, "AcademicAwardTitle") if completed else "",
        }
        paths = {
            "student_id": self.path(person, "AgencyIdentifier/AgencyAssignedID"),
            "local_id": self.path(person, "SchoolAssignedPersonID"),
            "first_name": self.path(name, "FirstName"),
            "last_name": self.path(name, "LastName"),
            "birth_date": self.path(person, "Birth/BirthDate"),
            "grade_level": self.path(record, "StudentLevel/StudentLevelCode"),
            "cohort_year": self.path(record, "CohortGraduationYear"),
            "entry_date": self.path(summary, "EntryDate"),
            "graduation_date": self.path(award, "AcademicAwardDate"),
        }
        return state_id if self.emit(STUDENTS, row, paths, person) else None

    def course(
        self, element: etree._Element, student_id: str, session_id: int, grade: int | None
    ) -> None:
        status = _text(element, "CourseAcademicGradeStatusCode")
        letter = _text(element, "CourseAcademicGrade") or _GRADE_FROM_STATUS.get(status, "")
        level = (
            _COURSE_LEVELS.get(_text(element, "CourseLevel"))
            or _BASIS_LEVELS.get(_text(element, "CourseCreditBasis"))
            or ("Honors" if status == "HonorsGrade" else "Standard")
        )
        credit_level = _LEVELS.get(_text(element, "CourseCreditLevel"))
        attempted = _text(element, "CourseCreditValue")
        earned = _text(element, "CourseCreditEarned")
        row: Row = {
            "student_id": student_id,
            "session_id": str(session_id),
            "grade_level": str(credit_level or grade or ""),
            "course_code": _text(element, "CourseNumber") or _text(element, "AgencyCourseID"),
            "title": _text(element, "CourseTitle"),
            "level": level,
            "grade": letter,
            "credits_attempted": _number(attempted or earned),
            "credits_earned": _number(earned or "0"),
            "quality_points": _number(_text(element, "CourseQualityPointsEarned") or "0"),
        }
        paths = {
            "grade_level": self.path(element, "CourseCreditLevel"),
            "course_code": self.path(element, "CourseNumber"),
            "title": self.path(element, "CourseTitle"),
            "grade": self.path(element, "CourseAcademicGrade"),
            "credits_attempted": self.path(element, "CourseCreditValue"),
            "credits_earned": self.path(element, "CourseCreditEarned"),
            "quality_points": self.path(element, "CourseQualityPointsEarned"),
        }
        self.emit(COURSE_RECORDS, row, paths, element)

    def gpa(
        self,
        record: etree._Element,
        student_id: str,
        sessions: list[tuple[etree._Element, int, int | None]],
    ) -> None:
        summaries = {
            _text(s, "AcademicSummaryType"): s
            for s in _children(record, "AcademicSummary")
            if _child(s, "GPA", "GradePointAverage") is not None
        }
        if not summaries:
            return
        first = next(iter(summaries.values()))
        weighted = _pick(summaries.get("Weighted"), summaries.get("All"), first)
        unweighted = _pick(summaries.get("NonWeighted"), summaries.get("All"), weighted)
        courses = [c for s, _, _ in sessions for c in _children(s, "Course")]
        attempted = _text(weighted, "GPA", "CreditHoursAttempted") or _sum(
            _text(c, "CourseCreditValue") for c in courses
        )
        earned = _text(weighted, "GPA", "CreditHoursEarned") or _sum(
            _text(c, "CourseCreditEarned") for c in courses
        )
        created = _text(self.root, "TransmissionData", "CreatedDateTime")[:10]
        award_date = _text(record, "AcademicAward", "AcademicAwardDate")
        row: Row = {
            "student_id": student_id,
            "as_of": _text(weighted, "ClassRankDate") or award_date or created,
            "gpa_weighted": _text(weighted, "GPA", "GradePointAverage"),
            "gpa_unweighted": _text(unweighted, "GPA", "GradePointAverage"),
            "credits_attempted": _number(attempted),
            "credits_earned": _number(earned),
            "class_rank": _text(weighted, "ClassRank"),
            "class_size": _text(weighted, "ClassSize"),
        }
        paths = {
            "gpa_weighted": self.path(weighted, "GPA/GradePointAverage"),
            "gpa_unweighted": self.path(unweighted, "GPA/GradePointAverage"),
            "class_rank": self.path(weighted, "ClassRank"),
            "class_size": self.path(weighted, "ClassSize"),
            "as_of": self.path(weighted, "ClassRankDate"),
        }
        self.emit(GPA_SUMMARIES, row, paths, weighted)

    def tests(self, element: etree._Element, student_id: str) -> None:
        names = " ".join(
            _text(element, n).upper() for n in ("TestCode", "EducationTestCode", "TestName")
        )
        test = next((t for t in _TESTS if t in names), None)
        if test is None:
            return  # not a test the gateway serves: not stored
        for subtest in _children(element, "Subtest"):
            row: Row = {
                "student_id": student_id,
                "test_code": test,
                "subtest": _text(subtest, "SubtestName")
                or _text(subtest, "SubtestCode")
                or _text(subtest, "EducationSubtestCode"),
                "score": _text(subtest, "TestScores", "ScoreValue"),
                "test_date": _text(element, "TestDate"),
            }
            paths = {
                "score": self.path(subtest, "TestScores/ScoreValue"),
                "test_date": self.path(element, "TestDate"),
            }
            self.emit(TEST_SCORES, row, paths, subtest)


def _line(element: etree._Element | None) -> int | None:
    line = element.sourceline if element is not None else None
    return line if isinstance(line, int) else None


def _pick(*elements: etree._Element | None) -> etree._Element:
    # Not `a or b`: an lxml element's truth is its number of children.
    return next(e for e in elements if e is not None)


def _term(session_type: str, begin: date, name: str) -> str:
    if session_type == "FullYear":
        return "FullYear"
    if session_type == "SummerSession" or "summer" in name.lower() or begin.month in (6, 7):
        return "Summer"
    return "Semester1" if begin.month >= 8 else "Semester2"


def _end(term: str, begin: date, school_year: int) -> date:
    ends = {
        "FullYear": date(school_year, 6, 15),
        "Semester1": date(begin.year, 12, 31),
        "Semester2": date(begin.year, 5, 31),
        "Summer": date(begin.year, 8, 15),
    }
    return max(begin, ends[term])


def _begin(session: etree._Element) -> date | None:
    detail = _child(session, "AcademicSessionDetail")
    text = _text(detail, "SessionBeginDate") or (_text(detail, "SessionDesignator") + "-01")
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _number(text: str) -> str:
    """A decimal without trailing zeros past the point ("1.000000" -> "1"), else as given."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return text
    if not value.is_finite() or "." not in text:
        return text
    return format(value.normalize(), "f")


def _sum(values: Iterable[str]) -> str:
    total = Decimal(0)
    for value in values:
        try:
            total += Decimal(value or "0")
        except InvalidOperation:
            continue
    return format(total, "f")


def _phone(area: str, number: str) -> str:
    if not number:
        return ""
    if len(number) == 7 and number.isdigit():
        number = f"{number[:3]}-{number[3:]}"
    return f"{area}-{number}" if area else number
