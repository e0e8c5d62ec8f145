"""The gateway's vocabulary maps onto PESC codes that both CoreMain versions define."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from gateway.pesc import codes

XS = "{http://www.w3.org/2001/XMLSchema}"


def enumeration(pesc_dir: Path, version: str, type_name: str) -> set[str]:
    core = {"v1.3.0": "CoreMain_v1.12.0.xsd", "v1.5.0": "CoreMain_v1.14.0.xsd"}[version]
    tree = etree.parse(str(pesc_dir / version / core))
    found = tree.find(f"{XS}simpleType[@name='{type_name}']")
    assert found is not None, type_name
    return {str(e.get("value")) for e in found.iter(f"{XS}enumeration")}


@pytest.mark.parametrize("version", ["v1.3.0", "v1.5.0"])
def test_every_mapped_code_is_in_both_code_lists(pesc_dir: Path, version: str) -> None:
    def values(type_name: str) -> set[str]:
        return enumeration(pesc_dir, version, type_name)

    assert set(codes.STUDENT_LEVEL.values()) <= values("StudentLevelCodeType")
    assert set(codes.COURSE_CREDIT_LEVEL.values()) <= values("CourseCreditLevelType")
    assert set(codes.COURSE_LEVEL.values()) <= values("CourseLevelType")
    assert set(codes.GRADE_STATUS.values()) <= values("CourseAcademicGradeStatusCodeType")
    assert set(codes.SESSION_TYPE.values()) <= values("SessionTypeType")
    assert values("StateProvinceCodeType") == codes.STATE_PROVINCE_CODES
    assert values("GenderCodeType") == codes.GENDER_CODES
    awards = {codes.award_level(t) for t in ("Standard", "Honors", "Occupational", "GED", None)}
    assert awards <= values("AcademicAwardLevelType")
    tests = {codes.identify_test(t).education_code for t in ("SAT", "ACT")}
    assert tests <= values("EducationTestCodeType")
    subtests = {
        codes.identify_subtest(s).education_code
        for s in ("Composite", "Total", "Math", "English", "Reading", "Science", "Writing")
    }
    assert subtests <= values("EducationSubtestCodeType")


@pytest.mark.parametrize(
    ("suffix", "code"),
    [("Jr.", "JR"), ("jr", "JR"), ("Sr", "SR"), ("iii", "III"), ("Junior", "JR"), ("Esq.", None)],
)
def test_name_suffixes(suffix: str, code: str | None) -> None:
    assert codes.name_suffix(suffix) == code


@pytest.mark.parametrize(
    ("diploma", "level"),
    [
        ("Future-Ready Core", "B18"),
        (None, "B18"),
        ("Honors Diploma", "B19"),
        ("Future-Ready Occupational", "B20"),
        ("International Baccalaureate Diploma", "B26"),
        ("GED", "B24"),
    ],
)
def test_award_levels(diploma: str | None, level: str) -> None:
    assert codes.award_level(diploma) == level


def test_tests_without_a_pesc_code_get_a_short_code_or_other() -> None:
    psat = codes.identify_test("PSAT")
    assert (psat.education_code, psat.code, psat.name) == (None, "PSAT", "PSAT/NMSQT")
    assert codes.identify_test("WorkKeysPlus").education_code == "OtherTest"
    assert codes.identify_test("WorkKeysPlus").name == "WorkKeysPlus"
    ebrw = codes.identify_subtest("EBRW")
    assert (ebrw.code, ebrw.name) == ("EBRW", "Evidence-Based Reading and Writing")
    assert codes.identify_subtest("Critical Reading").education_code == "OtherSubtest"
