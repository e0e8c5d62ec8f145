"""The gateway's vocabulary mapped onto PESC code lists (CoreMain 1.12.0 and 1.14.0).

Every value on the right is an enumeration value that both CoreMain versions define, so the
same mapping serves High School Transcript 1.3.0 and 1.5.0. Where PESC has no code for a
value, the tables say what is written instead and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from gateway.pesc import simple_types

# core:StudentLevelCodeType, by grade level (6..13).
STUDENT_LEVEL: Final[dict[int, str]] = {
    6: "SixthGrade",
    7: "SeventhGrade",
    8: "EighthGrade",
    9: "NinthGrade",
    10: "TenthGrade",
    11: "EleventhGrade",
    12: "TwelfthGrade",
    13: "Grade13",
}

# core:CourseCreditLevelType: the grade a course was taken in. The list starts at 7th grade;
# a 6th-grade course leaves the element out.
COURSE_CREDIT_LEVEL: Final[dict[int, str]] = {
    grade: code for grade, code in STUDENT_LEVEL.items() if grade >= 7
}

# Course.level -> core:CourseLevelType. 'Standard' has no code: leaving CourseLevel out is how
# PESC says "regular course". 'CollegeCredit' (dual enrollment) is 'Dual', which both versions
# define (1.14.0 adds 'Dual HS/Undergrad', unknown to 1.12.0).
COURSE_LEVEL: Final[dict[str, str]] = {
    "Honors": "Honors",
    "AP": "AdvancedPlacement",
    "IB": "InternationalBaccalaureate",
    "CollegeCredit": "Dual",
    "Remedial": "Remedial",
}

# Levels that earn weighted quality points: core:CourseGPAApplicabilityCodeType 'Weighted'.
WEIGHTED_LEVELS: Final = frozenset({"Honors", "AP", "IB", "CollegeCredit"})

# Grades that are marks rather than letter grades: core:CourseAcademicGradeStatusCodeType.
# They count in no GPA, so their CourseGPAApplicabilityCode is 'NotApplicable'.
GRADE_STATUS: Final[dict[str, str]] = {
    "P": "PassFailPass",
    "W": "Withdrew",
    "IP": "InProgress",
}

# Session.term -> core:SessionTypeType; both semesters are 'Semester' (the SessionName and the
# dates tell them apart).
SESSION_TYPE: Final[dict[str, str]] = {
    "FullYear": "FullYear",
    "Semester1": "Semester",
    "Semester2": "Semester",
    "Summer": "SummerSession",
}

# core:NameSuffixType is a closed list; other suffixes are left out of the XML (the JSON keeps
# them).
_NAME_SUFFIXES: Final = frozenset(
    {"JR", "SR", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X"}
)
_NAME_SUFFIX_ALIASES: Final[dict[str, str]] = {"JUNIOR": "JR", "SENIOR": "SR"}

# core:StateProvinceCodeType (also LocalOrganizationIDCodeQualifierType): identical in 1.12.0
# and 1.14.0. A domestic address needs one of these.
STATE_PROVINCE_CODES: Final = frozenset({
    "AA", "AB", "AE", "AK", "AL", "AP", "AR", "AS", "AZ", "BC", "CA", "CO", "CT", "CZ", "DC", "DE",
    "FL", "FM", "GA", "GU", "HI", "IA", "ID", "IL", "IN", "KS", "KY", "LA", "MA", "MB", "MD", "ME",
    "MH", "MI", "MN", "MO", "MP", "MS", "MT", "NB", "NC", "ND", "NE", "NF", "NH", "NJ", "NL", "NM",
    "NS", "NT", "NU", "NV", "NY", "OH", "OK", "ON", "OR", "PA", "PE", "PR", "PW", "QC", "RI", "SC",
    "SD", "SK", "TN", "TX", "UT", "VA", "VI", "VT", "WA", "WI", "WV", "WY", "YT",
})  # fmt: skip

GENDER_CODES: Final = frozenset({"Female", "Male", "Unreported"})


def name_suffix(value: str | None) -> str | None:
    """The core:NameSuffixType code for a suffix such as 'Jr.' or 'iii', or None."""
    if not value:
        return None
    key = value.strip().rstrip(".").replace(".", "").upper()
    if key in _NAME_SUFFIXES:
        return key
    return _NAME_SUFFIX_ALIASES.get(key)


def award_level(diploma_type: str | None) -> str:
    """core:AcademicAwardLevelType for a diploma, from the X12 'B' codes the type documents.

    B18 standard diploma (the default), B19 advanced or honors, B20 vocational, B21 special
    education, B24 GED, B26 International Baccalaureate. The diploma type is free text in the
    district data, so this reads keywords; the title carries the district's own wording.
    """
    words = (diploma_type or "").lower()
    if "baccalaureate" in words:
        return "B26"
    if "ged" in words.split() or "equivalency" in words:
        return "B24"
    if "special" in words:
        return "B21"
    if "occupational" in words or "vocational" in words:
        return "B20"
    if "honors" in words or "advanced" in words:
        return "B19"
    return "B18"


@dataclass(frozen=True)
class TestIdentity:
    """How one test is identified in core:TestsType: exactly one of the two code elements."""

    education_code: str | None  # core:EducationTestCodeType / EducationSubtestCodeType
    code: str | None  # core:TestCodeType / SubtestCodeType: 2..5 characters, mutually defined
    name: str | None  # TestName / SubtestName (1..60)


# SAT and ACT have EducationTestCode values. PSAT has none (the list stops at SAT subject
# tests), so it is the mutually defined TestCode 'PSAT' with its full name.
_TESTS: Final[dict[str, TestIdentity]] = {
    "SAT": TestIdentity("SAT", None, "SAT"),
    "ACT": TestIdentity("ACT", None, "ACT"),
    "PSAT": TestIdentity(None, "PSAT", "PSAT/NMSQT"),
}

# Subtests with an EducationSubtestCode. 'EBRW' (SAT Evidence-Based Reading and Writing, since
# 2016) has none: the list predates it, and 'Verbal' names the retired section.
_SUBTESTS: Final[dict[str, TestIdentity]] = {
    "Composite": TestIdentity("CompositeScore", None, None),
    "Total": TestIdentity("Total", None, None),
    "Math": TestIdentity("Math", None, None),
    "English": TestIdentity("English", None, None),
    "Reading": TestIdentity("Reading", None, None),
    "Science": TestIdentity("Science", None, None),
    "Writing": TestIdentity("Writing", None, None),
    "Essay": TestIdentity("Essay", None, None),
    "EBRW": TestIdentity(None, "EBRW", "Evidence-Based Reading and Writing"),
}


def identify_test(value: str) -> TestIdentity:
    """The PESC identification of a test such as 'SAT', 'ACT' or 'PSAT'."""
    return _TESTS.get(value) or _unlisted(value, "OtherTest")


def identify_subtest(value: str) -> TestIdentity:
    """The PESC identification of a subtest such as 'Composite', 'Math' or 'EBRW'."""
    return _SUBTESTS.get(value) or _unlisted(value, "OtherSubtest")


def _unlisted(value: str, other: str) -> TestIdentity:
    # A short code fits the mutually defined code element; anything else is the list's "other"
    # value with the district's wording as the name.
    name = simple_types.text(value, 60)  # core:TestNameType / SubtestNameType: 1..60
    if 2 <= len(value) <= 5 and value.isalnum():
        return TestIdentity(None, value, name)
    return TestIdentity(other, None, name)
