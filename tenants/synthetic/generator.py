"""Synthetic North Carolina district data: deterministic, realistic, and fast to make.

Pure: no I/O, no clock, no global random state. Everything is a function of the seed, the
district's plan and the term (`Term`), so the same inputs give byte-identical rows in any
process and in any order; `tenants.synthetic.seed` generates districts in a process pool and loads them
with COPY.

What one district gets (`district_rows`):

* 1-6 high schools (by district size; real names for the best-known districts) and a few
  external schools (other NC counties, other states) that transfer students came from;
* a session calendar per school: 4x4 block (Semester1/Semester2, four courses each) or
  traditional (FullYear, seven periods), for the five school years on record;
* students in the four current grades and last year's graduates, with NC-style UIDs, varied
  names (accents, apostrophes, hyphens, suffixes), birth dates consistent with their class;
  about 7% transferred in for 10th or 11th grade, with their earlier courses at an external
  school; about 1% of ninth graders have just enrolled and have no course yet;
* Future-Ready Core course histories (`tenants.synthetic.nc_courses`) with NC's 10-point scale and
  weighting, the current term in progress (IP), a few W and P grades, and summer-school
  credit recovery (P) for failed courses;
* GPA summaries computed from those courses, ranked within school and class;
* ACT (every junior in NC sits it in the spring), SAT and PSAT scores;
* transcript holds: about 1.5% active, 1% released.

Rows are tuples in the column order of `TABLES` (the COPY order of sql/district/0001).
Which districts exist is `district_plans` (`tenants.synthetic.nc_places`): the real LEAs, then charters.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from itertools import accumulate
from typing import Any

from tenants.synthetic import nc_courses as cat
from tenants.synthetic.nc_courses import (
    LETTER_HALVES,
    LEVEL_BONUS_HALVES,
    CourseDef,
    quality_points,
)
from tenants.synthetic.nc_names import GROUPS, LUMBEE_COUNTIES, SUFFIXES, NameGroup
from tenants.synthetic.nc_places import (
    COUNTIES,
    COUNTY_BY_NAME,
    KNOWN_SCHOOLS,
    MAX_DISTRICTS,
    OTHER_STATES,
    SCHOOL_NAMESAKES,
    STREETS,
    TOWNS,
    DistrictPlan,
    area_code,
    district_plans,
)

__all__ = [
    "DEMO_LEAS",
    "MAX_DISTRICTS",
    "MAX_STUDENTS",
    "TABLES",
    "DistrictPlan",
    "DistrictRows",
    "Row",
    "Term",
    "district_plans",
    "district_rows",
    "first_day",
    "last_day",
    "quality_points",
]

Row = tuple[Any, ...]

# Column order of every district table, as COPY receives them.
TABLES: dict[str, tuple[str, ...]] = {
    "schools": (
        "district_id", "school_id", "kind", "name", "nces_id", "ceeb_code", "state_school_id",
        "address_line", "city", "state_code", "postal_code", "phone",
    ),
    "students": (
        "district_id", "student_id", "local_id", "school_id", "first_name", "middle_name",
        "last_name", "name_suffix", "birth_date", "gender", "grade_level", "cohort_year",
        "entry_date", "graduation_date", "diploma_type",
    ),
    "academic_sessions": (
        "district_id", "session_id", "school_id", "school_year", "term", "name", "begin_date",
        "end_date",
    ),
    "course_records": (
        "district_id", "student_id", "record_id", "session_id", "grade_level", "course_code",
        "title", "level", "grade", "credits_attempted", "credits_earned", "quality_points",
    ),
    "gpa_summaries": (
        "district_id", "student_id", "as_of", "gpa_weighted", "gpa_unweighted",
        "credits_attempted", "credits_earned", "class_rank", "class_size",
    ),
    "test_scores": (
        "district_id", "student_id", "score_id", "test_code", "subtest", "score", "test_date",
    ),
    "transcript_holds": (
        "district_id", "student_id", "hold_id", "hold_type", "reason", "placed_at",
        "released_at",
    ),
}  # fmt: skip

DEMO_LEAS = ("920", "600", "320")
# UIDs of the district at plan index i are drawn from [UID_BASE + i*UID_SPAN, +UID_SPAN), so
# they are unique across the state without any coordination between generating processes.
UID_BASE = 1_000_000_000
UID_SPAN = 2_000_000
MAX_STUDENTS = UID_SPAN

# --- arithmetic ----------------------------------------------------------------------------
# Sums run in halves of a point and halves of a credit (see nc_courses), so they are exact.
_THOUSANDTH = Decimal("0.001")
_CREDIT = {0: Decimal("0"), 1: Decimal("0.5"), 2: Decimal("1.0")}
_ZERO = Decimal("0")


def _ratio(numerator: int, denominator: int) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(_THOUSANDTH, ROUND_HALF_UP)


@cache
def _decimal_quarters(quarters: int) -> Decimal:
    return Decimal(quarters) / 4


# --- calendar ------------------------------------------------------------------------------
def _nearest_weekday(day: date, weekday: int) -> date:
    delta = (weekday - day.weekday() + 3) % 7 - 3
    return day + timedelta(days=delta)


@cache
def first_day(school_year: int) -> date:
    """NC's school calendar law (G.S. 115C-84.2): start no earlier than the Monday closest
    to August 26."""
    return _nearest_weekday(date(school_year - 1, 8, 26), 0)


@cache
def last_day(school_year: int) -> date:
    """... and end no later than the Friday closest to June 11."""
    return _nearest_weekday(date(school_year, 6, 11), 4)


@cache
def fall_end(school_year: int) -> date:
    """Block schedules end the fall semester on the Friday before Martin Luther King Day."""
    return _nearest_weekday(date(school_year, 1, 15), 4)


def spring_begin(school_year: int) -> date:
    return fall_end(school_year) + timedelta(days=4)  # the Tuesday after the holiday


@dataclass(frozen=True, order=True)
class Term:
    """The term in progress when the data is made: school year (2027 = 2026-2027) and
    semester (1 fall, 2 spring). Data depends on the term, never on today's date, so a
    seed gives the same rows all semester."""

    school_year: int
    semester: int

    @classmethod
    def containing(cls, day: date) -> Term:
        if day.month >= 7:
            return cls(day.year + 1, 1)
        return cls(day.year, 2)

    @property
    def begin_date(self) -> date:
        return first_day(self.school_year) if self.semester == 1 else spring_begin(self.school_year)

    @property
    def reference_date(self) -> date:
        """Mid-term: tests taken and holds placed are dated before it."""
        end = fall_end(self.school_year) if self.semester == 1 else last_day(self.school_year)
        return self.begin_date + (end - self.begin_date) / 2


# --- rows ----------------------------------------------------------------------------------
@dataclass
class DistrictRows:
    """One district's rows, per table, in COPY column order (see TABLES)."""

    schools: list[Row] = field(default_factory=list)
    students: list[Row] = field(default_factory=list)
    academic_sessions: list[Row] = field(default_factory=list)
    course_records: list[Row] = field(default_factory=list)
    gpa_summaries: list[Row] = field(default_factory=list)
    test_scores: list[Row] = field(default_factory=list)
    transcript_holds: list[Row] = field(default_factory=list)

    def tables(self) -> Iterator[tuple[str, list[Row]]]:
        """(table, rows) in an order that satisfies the foreign keys."""
        for table in TABLES:
            yield table, getattr(self, table)

    def counts(self) -> dict[str, int]:
        return {table: len(rows) for table, rows in self.tables()}


def district_rows(
    plan: DistrictPlan, *, district_id: int, students: int, seed: int, term: Term
) -> DistrictRows:
    """Every row of one district. Pure: equal arguments give equal rows."""
    if not 0 <= students <= MAX_STUDENTS:
        raise ValueError(f"between 0 and {MAX_STUDENTS} students per district, not {students}")
    return _Builder(plan, district_id, seed, term).build(students)


@dataclass
class _School:
    school_id: int
    block: bool  # 4x4 block schedule (two semesters) or traditional (full year)
    ib: bool
    weight: float
    commencement: int  # days before the last day of school


@dataclass
class _Track:
    """How one student moves through high school."""

    ability: float
    honors: float  # chance of the honors section of a core course
    ap: float  # chance of the AP option where there is one
    ib: bool
    accelerated_math: bool
    language: tuple[CourseDef, ...]
    language_start: int
    cte: tuple[CourseDef, ...]
    arts: tuple[CourseDef, ...]
    ccp: bool
    electives: list[CourseDef]  # still to take, drawn from the end
    half_credit: list[CourseDef]  # semester-long electives of a traditional schedule


@dataclass
class _Totals:
    """Running sums of one student's completed courses, in halves and quarters."""

    weighted_quarters: int = 0
    unweighted_quarters: int = 0
    gpa_halves: int = 0
    attempted_halves: int = 0
    earned_halves: int = 0
    as_of: date | None = None  # end of the last session with a completed course
    ability: float = 0.0


_COHORT_SHARES = (0.19, 0.19, 0.195, 0.205, 0.22)  # graduates, 12th, 11th, 10th, 9th
_DIFFICULTY = {"Standard": 0.0, "Honors": 2.0, "AP": 4.5, "IB": 4.5, "CollegeCredit": 3.0}
_HOLD_REASONS = {
    "Financial": (
        "Unpaid textbook fees",
        "Unreturned Chromebook",
        "Outstanding cafeteria balance",
        "Unpaid athletic uniform",
    ),
    "Disciplinary": ("Pending disciplinary hearing", "Long-term suspension under review"),
    "Administrative": ("Records under review by the registrar", "Residency verification"),
    "RecordsIncomplete": (
        "Awaiting records from previous school",
        "Missing immunization record",
        "Transfer credit not yet evaluated",
    ),
}
_HOLD_TYPES = ("Financial", "Financial", "RecordsIncomplete", "Administrative", "Disciplinary")


class _Builder:
    """Builds one district. Tuples are assembled from shared constants wherever possible:
    the loader moves millions of them, so each one should cost as little as it can."""

    def __init__(self, plan: DistrictPlan, district_id: int, seed: int, term: Term) -> None:
        self.plan = plan
        self.did = district_id
        self.term = term
        self.rng = random.Random(f"{seed}:{plan.lea_code}")
        self.rows = DistrictRows()
        self.county = COUNTY_BY_NAME[plan.county]
        self.schools: list[_School] = []
        self.externals: list[int] = []
        self.external_block: dict[int, bool] = {}
        # (school_id, school_year, semester or 0 for the full year) -> (session_id, end_date)
        self.sessions: dict[tuple[int, int, int], tuple[int, date]] = {}
        self.pending_gpa: list[tuple[Any, ...]] = []
        groups = [
            (g, g.weight * (8 if g.key == "lumbee" and plan.county in LUMBEE_COUNTIES else 1))
            for g in GROUPS
        ]
        self.groups = [g for g, _ in groups]
        self.group_weights = list(accumulate(w for _, w in groups))

    def build(self, students: int) -> DistrictRows:
        self._high_schools()
        self._external_schools()
        self._calendar()
        self._students(students)
        self._rank()
        return self.rows

    # schools -------------------------------------------------------------------------------
    def _high_schools(self) -> None:
        plan, rng = self.plan, self.rng
        named = list(KNOWN_SCHOOLS.get(plan.lea_code, ()))
        names = [n for n, _ in named]
        towns = TOWNS.get(plan.county, (plan.home_town,))
        for j in range(1, plan.high_schools + 1):
            if j <= len(named):
                name, town = named[j - 1]
            elif plan.kind == "charter":
                name, town = plan.name, plan.home_town
            else:
                town = plan.home_town if plan.town or j == 1 else rng.choice(towns)
                name = self._school_name(town, names)
            names.append(name)
            # NCES: state 37, a 5-digit agency, a 5-digit school. CEEB: NC's 34 and a serial
            # that 37 (coprime with 10,000) scatters without collisions across the state.
            nces = f"37{(plan.index * 7 + 300) % 100_000:05d}{j * 1000 + rng.randrange(1000):05d}"
            ceeb = f"34{(plan.index * 6 + j) * 37 % 10_000:04d}"
            state_id = f"{plan.lea_code}{300 + j * 10 + rng.randrange(10)}"
            postal = f"{self.county.zip3}{rng.randrange(1, 99):02d}"
            phone = self._phone(area_code(self.county.zip3))
            self.rows.schools.append((self.did, j, "high", name, nces, ceeb, state_id,
                                      self._street(), town, "NC", postal, phone))  # fmt: skip
            block = rng.random() < (0.35 if plan.kind == "charter" else 0.7)
            ib = j == 1 and plan.high_schools >= 4
            self.schools.append(_School(j, block, ib, 0.6 + rng.random(), rng.randrange(6)))

    def _school_name(self, town: str, taken: list[str]) -> str:
        rng = self.rng
        county = self.plan.county
        candidates = [
            f"{town} High School",
            f"{rng.choice(('North', 'South', 'East', 'West'))} {county} High School",
            f"{rng.choice(SCHOOL_NAMESAKES)} High School",
            f"{county} Early College High School",
        ]
        for name in candidates[:1] + rng.sample(candidates[1:], 3):
            if name not in taken:
                return name
        return f"{rng.choice(SCHOOL_NAMESAKES)} {town} High School"

    def _street(self) -> str:
        return f"{self.rng.randrange(100, 9999)} {self.rng.choice(STREETS)}"

    def _phone(self, area: str) -> str:
        return f"{area}-{self.rng.randrange(200, 990)}-{self.rng.randrange(10000):04d}"

    def _external_schools(self) -> None:
        rng = self.rng
        for k in range(5):
            school_id = 101 + k
            if k < 2:  # another NC county: in-state transfers are the most common
                other = rng.choice(COUNTIES)
                name, city, state = f"{other.seat} High School", other.seat, "NC"
                nces = f"37{rng.randrange(100000):05d}{rng.randrange(100000):05d}"
                ceeb = f"34{rng.randrange(10000):04d}"
                postal = f"{other.zip3}{rng.randrange(1, 99):02d}"
                phone: str | None = self._phone(area_code(other.zip3))
            else:  # military families, mostly: VA, SC, GA, TX...
                st = rng.choice(OTHER_STATES)
                city, state = rng.choice(st.cities), st.code
                kind = rng.choice(("High School", "Senior High School", "Central High School"))
                name = f"{city} {kind}"
                nces = f"{st.fips}{rng.randrange(100000):05d}{rng.randrange(100000):05d}"
                ceeb = f"{st.ceeb}{rng.randrange(10000):04d}"
                postal = f"{st.zip2}{rng.randrange(1000):03d}"
                phone = None
            self.rows.schools.append((self.did, school_id, "external", name, nces, ceeb, None,
                                      self._street(), city, state, postal, phone))  # fmt: skip
            self.externals.append(school_id)
            self.external_block[school_id] = rng.random() < 0.5

    # calendar ------------------------------------------------------------------------------
    def _calendar(self) -> None:
        sy = self.term.school_year
        for school in self.schools:
            for year in range(sy - 4, sy + 1):
                self._school_year(school.school_id, year, school.block, summer=year < sy)
        for school_id in self.externals:
            for year in range(sy - 4, sy):
                self._school_year(school_id, year, self.external_block[school_id])

    def _school_year(self, school_id: int, year: int, block: bool, summer: bool = False) -> None:
        label = f"{year - 1}-{year}"
        if block:
            terms = [
                (1, "Semester1", f"{label} Fall Semester", first_day(year), fall_end(year)),
                (2, "Semester2", f"{label} Spring Semester", spring_begin(year), last_day(year)),
            ]
        else:
            terms = [(0, "FullYear", f"{label} School Year", first_day(year), last_day(year))]
        if summer:  # summer school: credit recovery for the courses failed that year
            begin = last_day(year) + timedelta(days=10)
            terms.append((3, "Summer", f"{label} Summer School", begin, begin + timedelta(days=32)))
        for semester, term, name, begin, end in terms:
            session_id = len(self.rows.academic_sessions) + 1
            self.rows.academic_sessions.append(
                (self.did, session_id, school_id, year, term, name, begin, end)
            )
            self.sessions[(school_id, year, semester)] = (session_id, end)

    # students ------------------------------------------------------------------------------
    def _students(self, count: int) -> None:
        rng, sy = self.rng, self.term.school_year
        span_start = UID_BASE + (self.plan.index % (MAX_DISTRICTS * 4)) * UID_SPAN
        uids = sorted(rng.sample(range(span_start, span_start + UID_SPAN), count))
        local_ids = sorted(rng.sample(range(100_000, 100_000 + max(900_000, count * 2)), count))
        cohorts = _split(count, _COHORT_SHARES)
        weights = list(accumulate(s.weight for s in self.schools))
        n = 0
        for offset, size in enumerate(cohorts):
            cohort_year = sy - 1 + offset
            for _ in range(size):
                school = self.schools[bisect(weights, rng.random() * weights[-1])]
                self._student(str(uids[n]), str(local_ids[n]), school, cohort_year)
                n += 1

    def _student(self, uid: str, local_id: str, school: _School, cohort: int) -> None:
        rng, sy = self.rng, self.term.school_year
        graduated = cohort < sy
        grade = 12 if graduated else 12 - (cohort - sy)
        gender = _gender(rng.random())
        group = self.groups[bisect(self.group_weights, rng.random() * self.group_weights[-1])]
        first, middle, last, suffix = _name(rng, group, gender)
        birth = date(cohort - 19, 9, 1) + timedelta(days=rng.randrange(365))
        if rng.random() < 0.04:  # retained a year somewhere along the way
            birth -= timedelta(days=365)
        entry_grade = 9
        if grade >= 10 and rng.random() < 0.07:
            entry_grade = 10 if grade == 10 or rng.random() < 0.6 else 11
        entry_year = cohort - 12 + entry_grade
        entry = first_day(entry_year) + timedelta(
            days=rng.randrange(0, 8) if entry_grade > 9 else 0
        )
        totals = _Totals()
        if grade == 9 and rng.random() < 0.01:
            # Just enrolled: no schedule yet, so no course and no GPA (an edge case on purpose).
            entry = self.term.begin_date + timedelta(days=rng.randrange(15, 40))
        else:
            external = rng.choice(self.externals)
            self._courses(uid, school, cohort, grade, entry_grade, external, totals)
        graduation = diploma = None
        if graduated:
            # After summer school, for a senior who had a course to recover.
            commencement = last_day(cohort) - timedelta(days=school.commencement)
            graduation = max(commencement, totals.as_of or commencement)
            diploma = "Future-Ready Occupational" if rng.random() < 0.015 else "Future-Ready Core"
        self.rows.students.append((self.did, uid, local_id, school.school_id, first, middle, last,
                                   suffix, birth, gender, grade, cohort, entry, graduation,
                                   diploma))  # fmt: skip
        if totals.gpa_halves:
            self._gpa(uid, school.school_id, cohort, totals)
        self._tests(uid, cohort, grade, totals)
        self._holds(uid, entry_grade > 9)

    # courses -------------------------------------------------------------------------------
    def _track(self, school: _School) -> _Track:
        rng = self.rng
        ability = min(100.0, max(55.0, rng.gauss(86.0, 8.0)))
        language: tuple[CourseDef, ...] = ()
        if rng.random() < 0.2 + (ability - 65) / 50:
            language = cat.LANGUAGES[_weighted(rng, cat.LANGUAGE_WEIGHTS)]
        electives = list(cat.ELECTIVES)
        rng.shuffle(electives)
        half_credit = list(cat.HALF_CREDIT_ELECTIVES)
        rng.shuffle(half_credit)
        return _Track(
            ability=ability,
            honors=min(0.95, max(0.0, (ability - 81) / 14)),
            ap=min(0.85, max(0.0, (ability - 89) / 12)),
            ib=school.ib and ability > 91 and rng.random() < 0.5,
            accelerated_math=ability > 92 and rng.random() < 0.65,
            language=language,
            language_start=9 if rng.random() < 0.6 else 10,
            cte=rng.choice(cat.CTE_PATHWAYS) if rng.random() < 0.8 else (),
            arts=rng.choice(cat.ARTS) if rng.random() < 0.55 else (),
            ccp=ability > 79 and rng.random() < 0.15,
            electives=electives,
            half_credit=half_credit,
        )

    def _courses(
        self,
        uid: str,
        school: _School,
        cohort: int,
        grade: int,
        entry_grade: int,
        external: int,
        totals: _Totals,
    ) -> None:
        track = self._track(school)
        totals.ability = track.ability
        term = self.term
        record = 0
        failed: list[CourseDef] = []  # to recover in the next summer school at home
        for year_grade in range(9, grade + 1):
            year = cohort - 12 + year_grade
            at_home = year_grade >= entry_grade
            school_id = school.school_id if at_home else external
            block = school.block if at_home else self.external_block[external]
            courses = self._year_courses(track, cohort, year_grade, 8 if block else 7)
            terms = ((1, courses[:4]), (2, courses[4:])) if block else ((0, courses),)
            for semester, chosen in terms:
                current = year == term.school_year
                if current and semester == 2 and term.semester == 1:
                    continue  # next semester's courses are not on the record yet
                in_progress = current and (semester == 0 or semester == term.semester)
                session_id, end = self.sessions[(school_id, year, semester)]
                for course in chosen:
                    record += 1
                    row = self._record(uid, record, session_id, year_grade, course, track,
                                       in_progress, totals)  # fmt: skip
                    self.rows.course_records.append(row)
                    if row[8] == "F" and course.level != "CollegeCredit":
                        failed.append(course)
                if not in_progress:
                    totals.as_of = end
            if failed and at_home and year < term.school_year:
                # A transfer student's failures elsewhere are recovered here, too.
                session_id, end = self.sessions[(school_id, year, 3)]
                for course in failed:
                    record += 1
                    self.rows.course_records.append(
                        self._recovery(uid, record, session_id, year_grade, course, totals)
                    )
                failed.clear()
                totals.as_of = end

    def _recovery(
        self, uid: str, record: int, session_id: int, grade_level: int, course: CourseDef,
        totals: _Totals,
    ) -> Row:  # fmt: skip
        """NC credit recovery: the failed course again in summer school, pass/fail. The F
        stays on the transcript and in the GPA; the P earns the credit."""
        totals.attempted_halves += course.halves
        totals.earned_halves += course.halves
        credit = _CREDIT[course.halves]
        code, title = _recovery_course(course)
        return (self.did, uid, record, session_id, grade_level, code, title, "Standard", "P",
                credit, credit, _ZERO)  # fmt: skip

    def _year_courses(self, t: _Track, cohort: int, grade: int, slots: int) -> list[CourseDef]:
        rng = self.rng
        courses = [self._english(t, grade), self._math(t, grade)]
        social = cat.social_studies(cohort, grade)
        courses.append(self._pick(t, social[0], social[1], social[2] if grade >= 10 else None))
        if grade <= 11 or rng.random() < (t.ability - 40) / 70:
            courses.append(self._science(t, grade))
        if grade == 9:
            courses.append(cat.HEALTH_PE)
        step = grade - t.language_start
        if t.language and 0 <= step < min(len(t.language), 2 + int(t.ability > 89) * 2):
            courses.append(t.language[step])
        cte_step = grade - 9
        if cte_step < len(t.cte):
            courses.append(t.cte[cte_step])
        if t.arts and grade - 9 < len(t.arts) and rng.random() < 0.75:
            courses.append(t.arts[grade - 9])
        if t.ccp and grade >= 11:
            courses.append(cat.CCP_COURSES[(grade - 11) * 2 + rng.randrange(2) * 4])
        if grade >= 11 and rng.random() < 0.05:
            courses.append(rng.choice(cat.PASS_FAIL))
        del courses[slots:]
        filled = len(courses)
        while filled < slots:
            filled += 1
            if slots == 7 and len(t.half_credit) >= 2 and rng.random() < 0.3:
                # One period, two semester-long courses of half a credit each.
                courses += (t.half_credit.pop(), t.half_credit.pop())
            else:
                courses.append(t.electives.pop() if t.electives else cat.PASS_FAIL[0])
        if slots == 8:
            rng.shuffle(courses)  # which four fall in which semester
        return courses

    def _pick(
        self, t: _Track, standard: CourseDef, honors: CourseDef, ap: CourseDef | None
    ) -> CourseDef:
        r = self.rng.random()
        if ap is not None and r < t.ap:
            return ap
        return honors if r < t.honors else standard

    def _english(self, t: _Track, grade: int) -> CourseDef:
        standard, honors = cat.ENGLISH[grade]
        if grade >= 11 and t.ib:
            return cat.IB_ENGLISH[grade]
        return self._pick(t, standard, honors, cat.AP_ENGLISH.get(grade))

    def _math(self, t: _Track, grade: int) -> CourseDef:
        rng = self.rng
        if t.accelerated_math:  # NC Math 1 in eighth grade: Math 2, Math 3, Precalculus, AP
            if grade <= 10:
                return cat.MATH_STANDARD[grade - 8][1]
            if grade == 11:
                return cat.PRECALCULUS[1]
            return cat.IB_MATH if t.ib else rng.choice(cat.AP_MATH)
        if grade <= 11:
            return self._pick(t, *cat.MATH_STANDARD[grade - 9], None)
        if rng.random() < t.ap / 2:
            return cat.AP_MATH[2]
        return self._pick(t, *rng.choice(cat.MATH_FOURTH), None)

    def _science(self, t: _Track, grade: int) -> CourseDef:
        if grade == 11 and t.ability < 75:
            return cat.PHYSICAL_SCIENCE
        if grade <= 11:
            return self._pick(t, *cat.SCIENCE[grade], None)
        if t.ib:
            return cat.IB_SCIENCE
        first, second = self.rng.choice(cat.SCIENCE_12)
        return self._pick(t, first, second, None)

    def _record(
        self,
        uid: str,
        record: int,
        session_id: int,
        grade_level: int,
        course: CourseDef,
        t: _Track,
        in_progress: bool,
        totals: _Totals,
    ) -> Row:
        halves = course.halves
        if in_progress:
            grade, attempted, earned, qp = "IP", halves, 0, 0
        elif course.pass_fail:
            grade, attempted, earned, qp = "P", halves, halves, 0
        elif course.code not in cat.CORE_CODES and self.rng.random() < 0.006:
            grade, attempted, earned, qp = "W", 0, 0, 0
        else:
            rng = self.rng
            noise = (rng.random() + rng.random() + rng.random() - 1.5) * 11
            score = t.ability + noise - _DIFFICULTY[course.level]
            grade = _letter(score)
            points = LETTER_HALVES[grade]
            attempted = halves
            earned = halves if points else 0
            weighted = points + LEVEL_BONUS_HALVES[course.level] if points else 0
            qp = weighted * halves
            totals.weighted_quarters += qp
            totals.unweighted_quarters += points * halves
            totals.gpa_halves += halves
        if not in_progress:
            totals.attempted_halves += attempted
            totals.earned_halves += earned
        return (self.did, uid, record, session_id, grade_level, course.code, course.title,
                course.level, grade, _CREDIT[attempted], _CREDIT[earned],
                _decimal_quarters(qp))  # fmt: skip

    # GPA and class rank --------------------------------------------------------------------
    def _gpa(self, uid: str, school_id: int, cohort: int, t: _Totals) -> None:
        # GPA = quality points / credits = (quarters / 4) / (halves / 2).
        weighted = _ratio(t.weighted_quarters, 2 * t.gpa_halves)
        unweighted = _ratio(t.unweighted_quarters, 2 * t.gpa_halves)
        attempted, earned = Decimal(t.attempted_halves) / 2, Decimal(t.earned_halves) / 2
        self.pending_gpa.append((school_id, cohort, uid, t.as_of, weighted, unweighted,
                                 attempted, earned))  # fmt: skip

    def _rank(self) -> None:
        """Rank by weighted GPA within school and class (NC ranks on the weighted GPA);
        ties go to the lower UID so that every rank from 1 to the class size is used once."""
        classes: dict[tuple[int, int], list[tuple[Any, ...]]] = {}
        for entry in self.pending_gpa:
            classes.setdefault((entry[0], entry[1]), []).append(entry)
        ranks: dict[str, tuple[int, int]] = {}
        for members in classes.values():
            members.sort(key=lambda e: (-e[4], e[2]))
            size = len(members)
            for rank, entry in enumerate(members, start=1):
                ranks[entry[2]] = (rank, size)
        for _, _, uid, as_of, weighted, unweighted, attempted, earned in self.pending_gpa:
            rank, size = ranks[uid]
            self.rows.gpa_summaries.append(
                (self.did, uid, as_of, weighted, unweighted, attempted, earned, rank, size)
            )

    # tests and holds -----------------------------------------------------------------------
    def _tests(self, uid: str, cohort: int, grade: int, totals: _Totals) -> None:
        if grade < 10 or totals.as_of is None:
            return
        rng = self.rng
        ability = totals.ability
        before = self.term.reference_date
        scores: list[tuple[str, str, int, date]] = []
        junior_year = cohort - 1
        psat_years = [(cohort - 2, 0.3), (junior_year, 0.45)]
        for year, chance in psat_years:
            when = _nth_weekday(year - 1, 10, 2, 2)  # the PSAT: mid-October, a Wednesday
            if when < before and rng.random() < chance:
                scores += _sat_scores(rng, "PSAT", ability, when, 160, 760)
        act_day = _nth_weekday(junior_year, 3, 1, 1)  # NC's spring ACT for every junior
        if act_day < before and rng.random() < 0.92:
            scores += _act_scores(rng, ability, act_day)
        for when in (_nth_weekday(junior_year, 3, 5, 1), _nth_weekday(cohort - 1, 10, 5, 1)):
            if when < before and rng.random() < 0.25 + max(0.0, ability - 83) / 40:
                scores += _sat_scores(rng, "SAT", ability, when, 200, 800)
        for n, (test, subtest, score, when) in enumerate(scores, start=1):
            self.rows.test_scores.append((self.did, uid, n, test, subtest, score, when))

    def _holds(self, uid: str, transfer: bool) -> None:
        rng = self.rng
        r = rng.random()
        if r >= 0.025:
            return
        today = self.term.reference_date
        hold_id = 0
        if r < 0.01:  # a hold placed and since released
            placed = today - timedelta(days=rng.randrange(60, 400))
            released = placed + timedelta(days=rng.randrange(3, 45))
            hold_id += 1
            self._hold(uid, hold_id, rng.choice(_HOLD_TYPES), placed, released)
        if r >= 0.01 or rng.random() < 0.2:
            kind = "RecordsIncomplete" if transfer and rng.random() < 0.6 else None
            placed = today - timedelta(days=rng.randrange(1, 120))
            hold_id += 1
            self._hold(uid, hold_id, kind or rng.choice(_HOLD_TYPES), placed, None)

    def _hold(self, uid: str, hold_id: int, kind: str, placed: date, released: date | None) -> None:
        reason = self.rng.choice(_HOLD_REASONS[kind])
        at = self._office_hours(placed)
        until = self._office_hours(released) if released else None
        self.rows.transcript_holds.append((self.did, uid, hold_id, kind, reason, at, until))

    def _office_hours(self, day: date) -> datetime:
        """A moment during school office hours, Eastern time (13:00-21:00 UTC)."""
        minutes = 13 * 60 + self.rng.randrange(8 * 60)
        return datetime.combine(day, time(minutes // 60, minutes % 60), UTC)


# --- small pure helpers --------------------------------------------------------------------
def _split(total: int, shares: Sequence[float]) -> list[int]:
    """Split `total` by `shares`, largest remainders first, so the parts add up exactly."""
    raw = [total * s / sum(shares) for s in shares]
    parts = [int(x) for x in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: parts[i] - raw[i])
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _gender(r: float) -> str:
    if r < 0.492:
        return "Male"
    return "Female" if r < 0.986 else "Unreported"


def _name(
    rng: random.Random, group: NameGroup, gender: str
) -> tuple[str, str | None, str, str | None]:
    male = gender == "Male" or (gender == "Unreported" and rng.random() < 0.5)
    firsts = group.male if male else group.female
    first = rng.choice(firsts)
    middle = rng.choice(firsts) if rng.random() < 0.8 else None
    if middle == first:
        middle = None
    last = rng.choice(group.last)
    r = rng.random()
    if group.key == "hispanic" and r < 0.1:
        other = rng.choice(group.last)
        if other != last and " " not in last + other:
            last = f"{last}-{other}"  # both family names, as many Latino families keep them
    elif r < 0.015:
        other = rng.choice(rng.choice(GROUPS).last)
        if other != last:
            last = f"{last}-{other}"
    suffix = None
    if gender == "Male" and group.key in ("anglo", "black") and rng.random() < 0.04:
        suffix = rng.choice(SUFFIXES)
    return first, middle, last, suffix


@cache
def _recovery_course(course: CourseDef) -> tuple[str, str]:
    return f"{course.code[:4]}2CR", f"{course.title.removesuffix(' Honors')} (Credit Recovery)"


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _letter(score: float) -> str:
    if score >= 90:
        return "A"
    if score >= 80:
        return "B"
    if score >= 70:
        return "C"
    return "D" if score >= 60 else "F"


@cache
def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th (from 1) `weekday` (0 = Monday) of a month."""
    first = date(year, month, 1)
    return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def _sat_scores(
    rng: random.Random, test: str, ability: float, when: date, low: int, high: int
) -> list[tuple[str, str, int, date]]:
    """SAT or PSAT: two sections on a 10-point grid and their total."""
    parts = []
    for _section in ("EBRW", "Math"):
        raw = 545 + (ability - 86) * 9 + rng.gauss(0, 60) - (30 if test == "PSAT" else 0)
        parts.append(int(min(high, max(low, round(raw / 10) * 10))))
    return [
        (test, "EBRW", parts[0], when),
        (test, "Math", parts[1], when),
        (test, "Total", parts[0] + parts[1], when),
    ]


def _act_scores(rng: random.Random, ability: float, when: date) -> list[tuple[str, str, int, date]]:
    """ACT: four subjects 1-36 and the composite, their average rounded half up."""
    subjects = ("English", "Math", "Reading", "Science")
    scores = [_act(19.5 + (ability - 86) * 0.6 + rng.gauss(0, 3.2)) for _ in subjects]
    composite = int((Decimal(sum(scores)) / 4).quantize(Decimal(1), ROUND_HALF_UP))
    rows = [("ACT", s, v, when) for s, v in zip(subjects, scores, strict=True)]
    rows.append(("ACT", "Composite", composite, when))
    return rows


def _act(raw: float) -> int:
    return int(min(36, max(1, round(raw))))
