"""Synthetic district data: deterministic, and every row something a real district could hold."""

from __future__ import annotations

import hashlib
import pickle
import re
import subprocess
import sys
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from tenants.synthetic.generator import (
    TABLES,
    DistrictPlan,
    DistrictRows,
    Term,
    district_plans,
    district_rows,
    first_day,
    last_day,
)
from tests.conftest import REPO

FALL = Term(2027, 1)
SPRING = Term(2027, 2)
STUDENTS = 1500

# The CHECK constraints of sql/district/0001_district_data.sql, restated.
NCES = re.compile(r"^[0-9]{12}$")
CEEB = re.compile(r"^[0-9]{6}$")
POSTAL = re.compile(r"^[0-9]{5}(-[0-9]{4})?$")
STATE = re.compile(r"^[A-Z]{2}$")
STUDENT_ID = re.compile(r"^[0-9A-Za-z-]{1,30}$")
GRADE = re.compile(r"^([A-DF][+-]?|P|W|IP)$")
LEA = re.compile(r"^[0-9A-Z]{3,10}$")

# NC's weighting, restated independently of the code under test.
POINTS = {"A": Decimal(4), "B": Decimal(3), "C": Decimal(2), "D": Decimal(1), "F": Decimal(0)}
BONUS = {
    "Standard": Decimal(0),
    "Honors": Decimal("0.5"),
    "AP": Decimal(1),
    "IB": Decimal(1),
    "CollegeCredit": Decimal(1),
}


def rows_of(table: str, rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    return [dict(zip(TABLES[table], row, strict=True)) for row in rows]


def generate(plan: DistrictPlan, term: Term, seed: int = 7, district_id: int = 1) -> DistrictRows:
    return district_rows(plan, district_id=district_id, students=STUDENTS, seed=seed, term=term)


@pytest.fixture(scope="module")
def plans() -> list[DistrictPlan]:
    return district_plans(300)


@pytest.fixture(scope="module", params=[FALL, SPRING], ids=["fall", "spring"])
def district(request: pytest.FixtureRequest, plans: list[DistrictPlan]) -> dict[str, Any]:
    """Wake (six high schools) and a charter school, as dicts by table, with their term."""
    term: Term = request.param
    tables: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for district_id, plan in ((1, plans[0]), (2, plans[250])):
        for table, rows in generate(plan, term, district_id=district_id).tables():
            tables[table] += rows_of(table, rows)
    return {"term": term, **tables}


# --- plans ---------------------------------------------------------------------------------
def test_plans_start_with_the_demo_districts_then_real_leas_then_charters(
    plans: list[DistrictPlan],
) -> None:
    assert [(p.lea_code, p.name) for p in plans[:3]] == [
        ("920", "Wake County Public School System"),
        ("600", "Charlotte-Mecklenburg Schools"),
        ("320", "Durham Public Schools"),
    ]
    leas = [p for p in plans if p.kind == "lea"]
    assert len(leas) == 115  # 100 county units and 15 city units
    assert {"010", "681", "111", "340", "995"} <= {p.lea_code for p in leas}
    assert all(p.kind == "charter" for p in plans[115:])
    assert all(re.fullmatch(r"[0-9]{2}[A-Z]", p.lea_code) for p in plans[115:])


def test_plans_have_unique_valid_codes_and_names(plans: list[DistrictPlan]) -> None:
    many = district_plans(1000)
    assert many[:300] == plans  # a longer plan extends a shorter one
    assert len({p.lea_code for p in many}) == len({p.name for p in many}) == 1000
    assert all(LEA.match(p.lea_code) and 1 <= len(p.name) <= 200 for p in many)
    assert [p.index for p in many] == list(range(1000))
    assert all(1 <= p.high_schools <= 6 for p in many)


def test_too_many_districts_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1000"):
        district_plans(1001)


# --- determinism ---------------------------------------------------------------------------
def test_same_seed_gives_identical_rows_and_another_seed_does_not(
    plans: list[DistrictPlan],
) -> None:
    first = pickle.dumps(generate(plans[3], FALL, seed=11))
    assert pickle.dumps(generate(plans[3], FALL, seed=11)) == first
    other = generate(plans[3], FALL, seed=12)
    assert pickle.dumps(other) != first
    assert other.students != generate(plans[3], FALL, seed=11).students


def test_rows_do_not_depend_on_the_process_hash_seed(plans: list[DistrictPlan]) -> None:
    """Worker processes must agree with each other: no set or dict-order dependence."""
    code = (
        "import hashlib, pickle; from tenants.synthetic.generator import *;"
        "p = district_plans(5)[4];"
        "r = district_rows(p, district_id=9, students=300, seed=5, term=Term(2027, 2));"
        "print(hashlib.sha256(pickle.dumps(r)).hexdigest())"
    )
    here = district_rows(district_plans(5)[4], district_id=9, students=300, seed=5, term=SPRING)
    expected = hashlib.sha256(pickle.dumps(here)).hexdigest()
    for hash_seed in ("1", "2"):
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
            env={"PYTHONHASHSEED": hash_seed, "PATH": "/usr/bin:/bin"},
        )
        assert out.stdout.strip() == expected


def test_district_id_only_changes_the_district_column(plans: list[DistrictPlan]) -> None:
    a = generate(plans[5], FALL, district_id=1)
    b = generate(plans[5], FALL, district_id=2)
    for (_, rows_a), (_, rows_b) in zip(a.tables(), b.tables(), strict=True):
        assert [r[1:] for r in rows_a] == [r[1:] for r in rows_b]
        assert {r[0] for r in rows_b} <= {2}


# --- schools and sessions ------------------------------------------------------------------
def test_schools_match_the_schema_and_look_like_nc(district: dict[str, Any]) -> None:
    for school in district["schools"]:
        assert NCES.match(school["nces_id"]) and CEEB.match(school["ceeb_code"])
        assert POSTAL.match(school["postal_code"]) and STATE.match(school["state_code"])
        if school["kind"] == "high":
            assert school["state_code"] == "NC"
            assert school["ceeb_code"].startswith("34")  # NC's CEEB prefix
            assert school["nces_id"].startswith("37")  # NC's FIPS code
            assert school["postal_code"][:2] in ("27", "28")
            assert re.fullmatch(r"[0-9]{3}-[0-9]{3}-[0-9]{4}", school["phone"])
    kinds = Counter(s["kind"] for s in district["schools"])
    assert kinds["high"] == 6 + 1  # Wake, and the charter school's one
    assert kinds["external"] > 0
    assert any(s["state_code"] != "NC" for s in district["schools"])


def test_sessions_are_block_semesters_or_full_years(district: dict[str, Any]) -> None:
    keys = Counter(
        (s["district_id"], s["school_id"], s["school_year"], s["term"])
        for s in district["academic_sessions"]
    )
    assert max(keys.values()) == 1
    terms = Counter(s["term"] for s in district["academic_sessions"])
    assert terms["Semester1"] == terms["Semester2"] > 0 and terms["FullYear"] > 0
    assert terms["Summer"] > 0
    for s in district["academic_sessions"]:
        assert s["begin_date"] < s["end_date"]
        assert s["name"].startswith(f"{s['school_year'] - 1}-{s['school_year']} ")
        if s["term"] == "Summer":  # after the school year it belongs to
            assert last_day(s["school_year"]) < s["begin_date"] < date(s["school_year"], 8, 1)
        else:
            assert first_day(s["school_year"]) <= s["begin_date"]
            assert s["end_date"] <= last_day(s["school_year"])


# --- students ------------------------------------------------------------------------------
def test_students_are_plausible(district: dict[str, Any]) -> None:
    term: Term = district["term"]
    students = district["students"]
    assert len({(s["district_id"], s["student_id"]) for s in students}) == len(students)
    assert len({s["student_id"] for s in students}) == len(students)  # unique statewide
    assert len({(s["district_id"], s["local_id"]) for s in students}) == len(students)
    for s in students:
        assert re.fullmatch(r"[0-9]{10}", s["student_id"]) and STUDENT_ID.match(s["student_id"])
        graduated = s["cohort_year"] < term.school_year
        assert (s["graduation_date"] is not None) == graduated == (s["diploma_type"] is not None)
        expected_grade = 12 if graduated else 12 - (s["cohort_year"] - term.school_year)
        assert s["grade_level"] == expected_grade
        # 17 to 19 on September 1 of the senior year (18 for most of the class).
        age = (date(s["cohort_year"] - 1, 9, 1) - s["birth_date"]).days / 365.25
        assert 16.9 < age < 19.1
        assert first_day(s["cohort_year"] - 3) <= s["entry_date"]
        if graduated:  # in June, or after summer school
            assert s["graduation_date"] < date(s["cohort_year"], 8, 1)
    grades = Counter(s["grade_level"] for s in students)
    assert set(grades) == {9, 10, 11, 12}
    assert {s["cohort_year"] for s in students} == set(
        range(term.school_year - 1, term.school_year + 4)
    )
    assert Counter(s["gender"] for s in students)["Unreported"] > 0


def test_names_are_varied(district: dict[str, Any]) -> None:
    students = district["students"]
    names = [(s["first_name"], s["middle_name"], s["last_name"]) for s in students]
    flat = [n for triple in names for n in triple if n]
    assert any(not n.isascii() for n in flat)  # José, Zoë, Nguyễn
    assert any("'" in n for n in flat)  # O'Brien, Ja'Marcus
    assert any("-" in s["last_name"] for s in students)  # García-López
    assert any(s["name_suffix"] for s in students)
    assert sum(1 for s in students if s["middle_name"] is None) > 0
    assert len({s["last_name"] for s in students}) > 200


# --- courses -------------------------------------------------------------------------------
def test_course_records_reference_students_and_sessions(district: dict[str, Any]) -> None:
    students = {(s["district_id"], s["student_id"]): s for s in district["students"]}
    sessions = {(s["district_id"], s["session_id"]): s for s in district["academic_sessions"]}
    schools = {(s["district_id"], s["school_id"]) for s in district["schools"]}
    assert all((s["district_id"], s["school_id"]) in schools for s in district["students"])
    assert all((s["district_id"], s["school_id"]) in schools for s in sessions.values())
    keys = Counter(
        (c["district_id"], c["student_id"], c["record_id"]) for c in district["course_records"]
    )
    assert max(keys.values()) == 1
    for c in district["course_records"]:
        student = students[(c["district_id"], c["student_id"])]
        session = sessions[(c["district_id"], c["session_id"])]
        # The course was taken the year the student was in that grade.
        assert session["school_year"] == student["cohort_year"] - 12 + c["grade_level"]
        assert 9 <= c["grade_level"] <= student["grade_level"]
    for table in ("gpa_summaries", "test_scores", "transcript_holds"):
        assert all((r["district_id"], r["student_id"]) in students for r in district[table])


def test_grades_credits_and_quality_points_follow_nc_weighting(district: dict[str, Any]) -> None:
    for c in district["course_records"]:
        assert GRADE.match(c["grade"]) and c["level"] in BONUS
        grade, attempted, earned = c["grade"], c["credits_attempted"], c["credits_earned"]
        assert attempted in (Decimal("0.5"), Decimal(1)) or (grade == "W" and attempted == 0)
        if grade in POINTS:
            bonus = BONUS[c["level"]] if grade != "F" else 0
            assert c["quality_points"] == (POINTS[grade] + bonus) * attempted
            assert earned == (0 if grade == "F" else attempted)
        else:
            assert c["quality_points"] == 0
            assert earned == (attempted if grade == "P" else 0)


def test_only_the_current_term_is_in_progress(district: dict[str, Any]) -> None:
    term: Term = district["term"]
    sessions = {(s["district_id"], s["session_id"]): s for s in district["academic_sessions"]}
    current = {"FullYear", f"Semester{term.semester}"}
    for c in district["course_records"]:
        session = sessions[(c["district_id"], c["session_id"])]
        this_term = session["school_year"] == term.school_year and session["term"] in current
        assert (c["grade"] == "IP") == this_term, (c, session)
        # Next semester's courses are not on the record yet.
        assert not (session["school_year"] == term.school_year and session["term"] == "Semester2"
                    and term.semester == 1)  # fmt: skip


def test_courses_follow_the_future_ready_core(district: dict[str, Any]) -> None:
    by_student: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in district["course_records"]:
        by_student[c["student_id"]].append(c)
    graduates = [s for s in district["students"] if s["graduation_date"]]
    for s in graduates:
        courses = by_student[s["student_id"]]
        titles = [c["title"] for c in courses]
        english = [c for c in courses if re.match(r"(AP |IB )?English", c["title"])]
        assert sum(c["credits_earned"] for c in english) == 4, titles
        assert any(t.startswith("NC Math 1") for t in titles) or any(
            t.startswith("NC Math 2") for t in titles
        )
        assert any(t.startswith("Health and Physical Education") for t in titles)
        assert sum(c["credits_earned"] for c in courses) >= 22  # the state minimum
    levels = Counter(c["level"] for c in district["course_records"])
    assert {"Standard", "Honors", "AP", "CollegeCredit"} <= set(levels)
    grades = Counter(c["grade"] for c in district["course_records"])
    assert {"A", "B", "C", "D", "F", "P", "W", "IP"} <= set(grades)
    assert grades["A"] + grades["B"] > grades["C"] + grades["D"] + grades["F"]
    credits = Counter(c["credits_attempted"] for c in district["course_records"])
    assert credits[Decimal("0.5")] > 0 and credits[Decimal(1)] > 10 * credits[Decimal("0.5")]


def test_failed_courses_are_recovered_in_summer_school(district: dict[str, Any]) -> None:
    sessions = {(s["district_id"], s["session_id"]): s for s in district["academic_sessions"]}
    failed = set()
    recovered = []
    for c in district["course_records"]:
        session = sessions[(c["district_id"], c["session_id"])]
        key = (c["district_id"], c["student_id"], c["course_code"][:4])
        if c["grade"] == "F":
            failed.add(key)
        if session["term"] == "Summer":
            assert c["grade"] == "P" and c["title"].endswith("(Credit Recovery)")
            recovered.append(key)
    assert recovered
    assert set(recovered) <= failed


# --- GPA and rank --------------------------------------------------------------------------
def test_gpa_summaries_equal_what_the_courses_give(district: dict[str, Any]) -> None:
    by_student: dict[tuple[int, str], list[dict[str, Any]]] = defaultdict(list)
    for c in district["course_records"]:
        by_student[(c["district_id"], c["student_id"])].append(c)
    gpas = {(g["district_id"], g["student_id"]): g for g in district["gpa_summaries"]}
    thousandth = Decimal("0.001")
    for key, courses in by_student.items():
        graded = [c for c in courses if c["grade"] in POINTS]
        if not graded:
            assert key not in gpas
            continue
        g = gpas[key]
        hours = sum(c["credits_attempted"] for c in graded)
        weighted = sum(c["quality_points"] for c in graded) / hours
        unweighted = sum(POINTS[c["grade"]] * c["credits_attempted"] for c in graded) / hours
        assert g["gpa_weighted"] == weighted.quantize(thousandth, ROUND_HALF_UP)
        assert g["gpa_unweighted"] == unweighted.quantize(thousandth, ROUND_HALF_UP)
        done = [c for c in courses if c["grade"] != "IP"]
        assert g["credits_attempted"] == sum(c["credits_attempted"] for c in done)
        assert g["credits_earned"] == sum(c["credits_earned"] for c in done)
        assert Decimal(0) <= g["gpa_unweighted"] <= g["gpa_weighted"] <= Decimal(5)
    assert set(gpas) <= set(by_student)


def test_class_ranks_run_from_one_to_the_class_size(district: dict[str, Any]) -> None:
    students = {(s["district_id"], s["student_id"]): s for s in district["students"]}
    classes: dict[tuple[int, int, int], list[dict[str, Any]]] = defaultdict(list)
    for g in district["gpa_summaries"]:
        s = students[(g["district_id"], g["student_id"])]
        classes[(g["district_id"], s["school_id"], s["cohort_year"])].append(g)
    assert len(classes) > 10
    for members in classes.values():
        ranked = sorted(members, key=lambda g: g["class_rank"])
        assert [g["class_rank"] for g in ranked] == list(range(1, len(members) + 1))
        assert {g["class_size"] for g in members} == {len(members)}
        weighted = [g["gpa_weighted"] for g in ranked]
        assert weighted == sorted(weighted, reverse=True)


def test_ninth_graders_have_no_gpa_until_a_term_is_complete(district: dict[str, Any]) -> None:
    term: Term = district["term"]
    ninth = {s["student_id"] for s in district["students"] if s["grade_level"] == 9}
    with_gpa = ninth & {g["student_id"] for g in district["gpa_summaries"]}
    if term.semester == 1:
        assert not with_gpa
    else:
        assert with_gpa  # block schedules completed the fall semester


# --- edge cases ----------------------------------------------------------------------------
def test_some_students_have_no_course_at_all(district: dict[str, Any]) -> None:
    with_courses = {c["student_id"] for c in district["course_records"]}
    without = [s for s in district["students"] if s["student_id"] not in with_courses]
    assert without
    assert all(s["grade_level"] == 9 for s in without)


def test_transfer_students_took_earlier_courses_at_an_external_school(
    district: dict[str, Any],
) -> None:
    external = {
        (s["district_id"], s["school_id"]) for s in district["schools"] if s["kind"] == "external"
    }
    sessions = {(s["district_id"], s["session_id"]): s for s in district["academic_sessions"]}
    students = {(s["district_id"], s["student_id"]): s for s in district["students"]}
    transfers: dict[tuple[int, str], set[int]] = defaultdict(set)
    for c in district["course_records"]:
        session = sessions[(c["district_id"], c["session_id"])]
        if (c["district_id"], session["school_id"]) in external:
            transfers[(c["district_id"], c["student_id"])].add(c["grade_level"])
    assert len(transfers) > 20
    for key, grades in transfers.items():
        student = students[key]
        assert 9 in grades and max(grades) <= 10
        # They entered the district after ninth grade started elsewhere.
        assert student["entry_date"] > first_day(student["cohort_year"] - 3)


# --- tests and holds -----------------------------------------------------------------------
def test_test_scores_are_on_their_scales(district: dict[str, Any]) -> None:
    term: Term = district["term"]
    students = {(s["district_id"], s["student_id"]): s for s in district["students"]}
    sittings: dict[tuple[int, str, str, date], dict[str, int]] = defaultdict(dict)
    for t in district["test_scores"]:
        assert t["test_date"] < term.reference_date
        assert students[(t["district_id"], t["student_id"])]["grade_level"] >= 10
        sittings[(t["district_id"], t["student_id"], t["test_code"], t["test_date"])][
            t["subtest"]
        ] = t["score"]
    codes = Counter(key[2] for key in sittings)
    assert codes["ACT"] > codes["SAT"] > 0 and codes["PSAT"] > 0
    for (_, _, code, _), scores in sittings.items():
        if code == "ACT":
            subjects = [scores[s] for s in ("English", "Math", "Reading", "Science")]
            assert all(1 <= v <= 36 for v in subjects)
            composite = (Decimal(sum(subjects)) / 4).quantize(Decimal(1), ROUND_HALF_UP)
            assert scores["Composite"] == composite
        else:
            low, high = (200, 800) if code == "SAT" else (160, 760)
            assert all(low <= scores[s] <= high and scores[s] % 10 == 0 for s in ("EBRW", "Math"))
            assert scores["Total"] == scores["EBRW"] + scores["Math"]


def test_a_few_students_have_holds(district: dict[str, Any]) -> None:
    term: Term = district["term"]
    holds = district["transcript_holds"]
    active = {(h["district_id"], h["student_id"]) for h in holds if h["released_at"] is None}
    released = [h for h in holds if h["released_at"] is not None]
    assert 0.008 < len(active) / len(district["students"]) < 0.03
    assert released
    assert {h["hold_type"] for h in holds} == {
        "Financial",
        "Disciplinary",
        "Administrative",
        "RecordsIncomplete",
    }
    for h in holds:
        assert h["placed_at"].tzinfo is not None
        assert h["placed_at"].date() < term.reference_date
        assert h["released_at"] is None or h["placed_at"] < h["released_at"]
    keys = Counter((h["district_id"], h["student_id"], h["hold_id"]) for h in holds)
    assert max(keys.values()) == 1


# --- term ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("day", "term"),
    [
        (date(2026, 11, 25), Term(2027, 1)),
        (date(2026, 7, 1), Term(2027, 1)),
        (date(2027, 1, 20), Term(2027, 2)),
        (date(2027, 6, 30), Term(2027, 2)),
    ],
)
def test_term_of_a_day(day: date, term: Term) -> None:
    assert Term.containing(day) == term


def test_school_calendar_follows_nc_law() -> None:
    for year in range(2020, 2031):
        assert first_day(year).weekday() == 0
        assert abs((first_day(year) - date(year - 1, 8, 26)).days) <= 3
        assert last_day(year).weekday() == 4
        assert abs((last_day(year) - date(year, 6, 11)).days) <= 3
