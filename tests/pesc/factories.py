"""Realistic `StudentRecord`s for the PESC tests, from a seeded `random.Random`.

`RecordFactory(seed).record(...)` builds one student; keyword arguments force the edge cases
(no courses yet, a transfer, a graduate, a hold, missing school ids, given names). `variety(n)`
builds n students that cycle through every edge case, so that a test over all of them meets
each one many times. The same seed always gives the same students.
"""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal

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

# A name over 100 characters: PESC's LastName holds 35.
LONG_LAST_NAME = "Wolfeschlegelsteinhausenbergerdorff-" + "Featherstonehaugh-Cholmondeley" * 3
ACCENTED_FIRST_NAME = "Zoë"
ACCENTED_LAST_NAME = "Ångström-Núñez"

_FIRST_NAMES = [
    "Aaliyah", "Liam", "Sofía", "Jamal", "Chloé", "Nguyễn", "Mateo", "Ava", "D'Andre", "Siobhán",
    "Élodie", "Kai", "Øyvind", "Amara", "José", "Maëlle", "Priya", "Łukasz", "Zoë", "Ethan",
]  # fmt: skip
_MIDDLE_NAMES = ["Marie", "James", "Ann", "Lee", "O", "Grace", "Renée", "J.", None, None, None]
_LAST_NAMES = [
    "Smith", "O'Brien", "García-López", "Nguyen", "Washington", "D'Angelo", "Müller", "Ødegaard",
    "Johnson & Johnson", "McAllister", "Ångström-Núñez", "Patel", "St. Clair", "Van der Berg",
]  # fmt: skip
_SUFFIXES = [None] * 12 + ["Jr.", "III", "Sr", "II"]
_DIPLOMAS = ["Future-Ready Core", "Standard", "Honors Diploma", "Future-Ready Occupational"]

# (code, title, level, full-year credits) in the style of North Carolina course codes.
_CATALOG = [
    ("10212X0", "English I", "Standard"), ("10215X0", "English I Honors", "Honors"),
    ("10222X0", "English II", "Standard"), ("10225X0", "English II Honors", "Honors"),
    ("10232X0", "English III", "Standard"), ("1A007X0", "AP English Language & Composition", "AP"),
    ("10242X0", "English IV", "Standard"), ("1A017X0", "AP English Literature & Composition", "AP"),
    ("21032X0", "Math I", "Standard"), ("22035X0", "Math II Honors", "Honors"),
    ("23035X0", "Math III Honors", "Honors"), ("2A007X0", "AP Calculus AB", "AP"),
    ("2A017X0", "AP Calculus BC", "AP"), ("2I017X0", "IB Mathematics: Analysis and Approaches HL", "IB"),
    ("33202X0", "Earth/Environmental Science", "Standard"), ("30205X0", "Biology Honors", "Honors"),
    ("34202X0", "Chemistry", "Standard"), ("3A007X0", "AP Biology", "AP"),
    ("43032X0", "World History", "Standard"), ("4A017X0", "AP United States History", "AP"),
    ("40052X0", "Founding Principles of the USA & NC: Civic Literacy", "Standard"),
    ("11012X0", "Spanish I", "Standard"), ("11022X0", "Spanish II", "Standard"),
    ("54102X0", "Visual Arts Beginning", "Standard"), ("91052X0", "Healthful Living I", "Standard"),
    ("BI102X0", "Microsoft Word & PowerPoint", "Standard"), ("ENG111C", "Writing and Inquiry (CCP)", "CollegeCredit"),
    ("MAT171C", "Precalculus Algebra (CCP)", "CollegeCredit"), ("92102X0", "Reading Foundations", "Remedial"),
    ("7A217X0", "Drafting I & Engineering Graphics: A Very Long Course Title That Keeps On Going Past Sixty", "Standard"),
]  # fmt: skip

_LETTERS = ["A", "A", "A-", "B+", "B", "B", "B-", "C+", "C", "C-", "D+", "D", "F"]
_POINTS = {"A": 4, "B": 3, "C": 2, "D": 1, "F": 0}
_BONUS = {"Honors": Decimal("0.5"), "AP": Decimal(1), "IB": Decimal(1), "CollegeCredit": Decimal(1)}


class RecordFactory:
    """Builds StudentRecords; every choice comes from one seeded random.Random."""

    def __init__(self, seed: int = 20240607) -> None:
        self.rng = random.Random(seed)
        self._serial = 0

    def record(
        self,
        *,
        grade_level: int | None = None,
        graduated: bool = False,
        transfer: bool = False,
        hold: bool = False,
        with_ceeb: bool = True,
        with_nces: bool = True,
        first_name: str | None = None,
        last_name: str | None = None,
        school_name: str | None = None,
        district_name: str | None = None,
        tests: bool | None = None,
    ) -> StudentRecord:
        """One student. `grade_level=9` with no other option is a 9th grader without courses."""
        rng = self.rng
        self._serial += 1
        current_year = 2025  # the school year 2024-2025 is in progress
        grade = 12 if graduated else (grade_level or rng.randint(9, 12))
        cohort = current_year + (12 - grade)
        first_year = cohort - 3  # the year the student's 9th grade ended
        school = self._school(
            1, "high", school_name or self._school_name(), with_ceeb=with_ceeb, with_nces=with_nces
        )
        schools = {school.school_id: school}
        sessions: list[Session] = []
        # A 9th grader without options has no finished or started courses yet.
        empty = grade == 9 and grade_level == 9 and not transfer
        years = [] if empty else list(range(first_year, first_year + grade - 8))
        for index, year in enumerate(years):
            attended = school
            if transfer and index == 0:
                attended = self._school(2, "external", "Riverside Academy of Virginia")
                schools[attended.school_id] = attended
            in_progress = year == current_year and not graduated
            sessions.extend(self._year(attended, year, grade=9 + index, in_progress=in_progress))
        if transfer and not years:
            raise ValueError("a transfer student needs a grade above 9")
        graduation = date(cohort, 6, 7) if graduated else None
        student = Student(
            student_id=f"{rng.randint(10**9, 10**10 - 1)}",
            local_id=f"{rng.randint(100000, 999999)}",
            first_name=first_name or rng.choice(_FIRST_NAMES),
            middle_name=rng.choice(_MIDDLE_NAMES),
            last_name=last_name or rng.choice(_LAST_NAMES),
            name_suffix=rng.choice(_SUFFIXES),
            birth_date=date(cohort - 18, rng.randint(1, 12), rng.randint(1, 28)),
            gender=rng.choice(["Male", "Female", "Unreported"]),
            grade_level=grade,
            cohort_year=cohort,
            entry_date=date(first_year - 1, 8, rng.randint(20, 28)),
            graduation_date=graduation,
            diploma_type=rng.choice(_DIPLOMAS) if graduated else None,
        )
        with_tests = tests if tests is not None else (grade >= 10 and rng.random() < 0.7)
        return StudentRecord(
            district=DistrictInfo(lea_code="920", name=district_name or "Wake County Schools"),
            student=student,
            school=school,
            schools=schools,
            sessions=tuple(sessions),
            gpa=self._gpa(sessions, as_of=date(current_year, 1, 20)),
            test_scores=self._tests(cohort) if with_tests else (),
            active_holds=(self._hold(),) if hold else (),
        )

    def variety(self, count: int) -> list[StudentRecord]:
        """`count` students cycling through every edge case the PESC tests must survive."""
        cases = [
            {},
            {"grade_level": 9},
            {"first_name": ACCENTED_FIRST_NAME, "last_name": ACCENTED_LAST_NAME},
            {"last_name": LONG_LAST_NAME, "first_name": "Maximilian-Alexander-Bartholomew-Christopher"},
            {"last_name": "O'Connor & Daughters", "school_name": "St. Mary's & St. John's Academy"},
            {"transfer": True, "grade_level": 11},
            {"graduated": True},
            {"hold": True, "grade_level": 12},
            {"with_ceeb": False, "with_nces": False},
            {"grade_level": 10, "tests": True},
        ]  # fmt: skip
        return [self.record(**cases[i % len(cases)]) for i in range(count)]  # type: ignore[arg-type]

    def four_year_student(self) -> StudentRecord:
        """A typical graduate of a block schedule: 4 years, 8 semesters, 32 courses."""
        return self.record(graduated=True, tests=True)

    # -- parts ------------------------------------------------------------------------------

    def _school(
        self,
        school_id: int,
        kind: str,
        name: str,
        *,
        with_ceeb: bool = True,
        with_nces: bool = True,
    ) -> School:
        rng = self.rng
        external = kind == "external"
        return School(
            school_id=school_id,
            kind=kind,
            name=name,
            nces_id=f"37{rng.randint(10**9, 10**10 - 1)}" if with_nces and not external else None,
            ceeb_code=f"34{rng.randint(1000, 9999)}" if with_ceeb else None,
            state_school_id=None if external else f"920-{rng.randint(100, 999)}",
            address_line=rng.choice(
                [
                    "1500 Mail Creek Rd",
                    "100 N. Main Street, Building C & Annex, Second Floor Suite 200",
                ]
            ),
            city="Fairfax" if external else rng.choice(["Raleigh", "Holly Springs", "Wake Forest"]),
            state_code="VA" if external else "NC",
            postal_code=rng.choice(["27601", "27540-1234"]),
            phone=rng.choice(["(919) 555-0142", "919.555.0100 x204", None]),
        )

    def _school_name(self) -> str:
        return self.rng.choice(
            ["Enloe Magnet High School", "Apex Friendship High", "Athens Drive High School",
             "Sanderson High School", "Heritage High School"]
        )  # fmt: skip

    def _year(self, school: School, year: int, *, grade: int, in_progress: bool) -> list[Session]:
        rng = self.rng
        block = rng.random() < 0.75  # most NC high schools run 4x4 block semesters
        terms = [("Semester1", 8, 12), ("Semester2", 1, 6)] if block else [("FullYear", 8, 6)]
        sessions = []
        for term, begin_month, end_month in terms:
            begin_year = year - 1 if begin_month >= 8 else year
            name = {"Semester1": "Fall", "Semester2": "Spring", "FullYear": "Year"}[term]
            count = 4 if block else 7
            credit = Decimal("1.00") if block or rng.random() < 0.8 else Decimal("0.50")
            # Spring of the current year has not started; its courses are in progress.
            ongoing = in_progress and (term != "Semester1")
            courses = tuple(self._course(grade, credit, in_progress=ongoing) for _ in range(count))
            self._serial += 1
            sessions.append(
                Session(
                    session_id=self._serial,
                    school_id=school.school_id,
                    school_year=year,
                    term=term,
                    name=f"{name} {begin_year}" if term != "FullYear" else f"{year - 1}-{year}",
                    begin_date=date(begin_year, begin_month, 20 if begin_month == 8 else 6),
                    end_date=date(begin_year, end_month, 18 if end_month == 12 else 10),
                    courses=courses,
                )
            )
        return sessions

    def _course(self, grade: int, credit: Decimal, *, in_progress: bool) -> Course:
        rng = self.rng
        code, title, level = rng.choice(_CATALOG)
        if in_progress:
            grade_mark = "IP"
        else:
            roll = rng.random()
            grade_mark = "W" if roll < 0.02 else "P" if roll < 0.05 else rng.choice(_LETTERS)
        if rng.random() < 0.05:
            credit = Decimal("0.50")
        passed = grade_mark not in {"F", "W", "IP"}
        counted = grade_mark[0] in _POINTS and grade_mark not in {"P"}
        points = Decimal(_POINTS.get(grade_mark[0], 0)) if counted else Decimal(0)
        if counted and grade_mark != "F":
            points += _BONUS.get(level, Decimal(0))
        self._serial += 1
        return Course(
            record_id=self._serial,
            grade_level=grade,
            course_code=code,
            title=title,
            level=level,
            grade=grade_mark,
            credits_attempted=credit,
            credits_earned=credit if passed else Decimal("0.00"),
            quality_points=(points * credit).quantize(Decimal("0.001")),
        )

    def _gpa(self, sessions: list[Session], *, as_of: date) -> GpaSummary | None:
        counted = [
            c for s in sessions for c in s.courses if c.grade[0] in _POINTS and c.grade != "P"
        ]
        if not counted:
            return None
        attempted = sum((c.credits_attempted for c in counted), Decimal(0))
        weighted = sum((c.quality_points for c in counted), Decimal(0)) / attempted
        unweighted = (
            sum((Decimal(_POINTS[c.grade[0]]) * c.credits_attempted for c in counted), Decimal(0))
            / attempted
        )
        size = self.rng.choice([None, 412, 388, 12000])  # 12000: over PESC's 4-digit ClassSize
        rank = self.rng.randint(1, size) if size else None
        all_courses = [c for s in sessions for c in s.courses]
        return GpaSummary(
            as_of=as_of,
            gpa_weighted=weighted.quantize(Decimal("0.001")),
            gpa_unweighted=unweighted.quantize(Decimal("0.001")),
            credits_attempted=sum((c.credits_attempted for c in all_courses), Decimal(0)),
            credits_earned=sum((c.credits_earned for c in all_courses), Decimal(0)),
            class_rank=rank,
            class_size=size,
        )

    def _tests(self, cohort: int) -> tuple[TestScore, ...]:
        rng = self.rng
        scores: list[TestScore] = []
        psat = date(cohort - 2, 10, 12)
        ebrw, math = rng.randint(20, 76) * 10, rng.randint(20, 76) * 10
        scores += [
            TestScore("PSAT", "EBRW", ebrw, psat),
            TestScore("PSAT", "Math", math, psat),
            TestScore("PSAT", "Total", ebrw + math, psat),
        ]
        if rng.random() < 0.7:
            sat = date(cohort - 1, 3, 9)
            ebrw, math = rng.randint(20, 80) * 10, rng.randint(20, 80) * 10
            scores += [
                TestScore("SAT", "EBRW", ebrw, sat),
                TestScore("SAT", "Math", math, sat),
                TestScore("SAT", "Total", ebrw + math, sat),
            ]
        if rng.random() < 0.6:
            act = date(cohort - 1, 4, 13)
            parts = {s: rng.randint(12, 36) for s in ("English", "Math", "Reading", "Science")}
            scores += [TestScore("ACT", s, v, act) for s, v in parts.items()]
            scores.append(TestScore("ACT", "Composite", round(sum(parts.values()) / 4), act))
        return tuple(scores)

    def _hold(self) -> Hold:
        return Hold(
            hold_id=1,
            hold_type=self.rng.choice(["Financial", "Disciplinary", "RecordsIncomplete"]),
            reason="Unreturned band instrument & library fines",
            placed_at=datetime(2025, 1, 6, 14, 30, tzinfo=UTC),
        )


def without_school_ids(record: StudentRecord) -> StudentRecord:
    """The record with its high school's CEEB and NCES ids removed."""
    school = replace(record.school, ceeb_code=None, nces_id=None)
    return replace(record, school=school, schools={**record.schools, school.school_id: school})
