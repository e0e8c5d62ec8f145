"""The NC high school course catalogue that synthetic transcripts draw from.

Course codes follow the shape of the NC Course Code Manual as schools print them: four
characters for the course, one digit for the academic level (2 standard, 5 honors, 7 AP,
8 IB), then the local suffix ("X0"): English I is 10212X0, English I Honors 10215X0. Career
and technical education courses have letter codes (HU40 = Health Science I). Career &
College Promise (dual enrolment) courses keep their community college code (ENG 111).

The graduation requirements are the Future-Ready Core (16 NCAC 06D .0503): four English, four
math (NC Math 1-3 and a fourth), three science (a physical science, Biology, an earth or
environmental science), four social studies, one health and PE, plus electives. The social
studies sequence changed for students entering ninth grade from 2020-21 on (the class of 2024,
see `social_studies`): Founding Principles of the USA and NC: Civic Literacy, Economics and
Personal Finance, and a single American History replaced "American History: Founding
Principles, Civics and Economics" and American History I/II, which earlier classes took.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

_LEVEL_DIGIT = {"Standard": "2", "Honors": "5", "AP": "7", "IB": "8"}


@dataclass(frozen=True)
class CourseDef:
    """One course as the catalogue offers it; credit in half credits (2 = 1.0 credit)."""

    code: str
    title: str
    level: str  # Standard, Honors, AP, IB, CollegeCredit
    halves: int = 2
    pass_fail: bool = False


def _nc(base: str, title: str, level: str = "Standard", halves: int = 2) -> CourseDef:
    return CourseDef(f"{base}{_LEVEL_DIGIT[level]}X0", title, level, halves)


def _levels(base: str, title: str) -> tuple[CourseDef, CourseDef]:
    """The standard and honors offering of one course."""
    return _nc(base, title), _nc(base, f"{title} Honors", "Honors")


def _ccp(code: str, title: str) -> CourseDef:
    # A three-semester-hour college course counts as one high school credit (CCP policy).
    return CourseDef(code.replace(" ", ""), f"{code} {title}", "CollegeCredit")


# English: (standard, honors) by grade 9-12, and the advanced alternatives.
ENGLISH = {
    9: _levels("1021", "English I"),
    10: _levels("1022", "English II"),
    11: _levels("1023", "English III"),
    12: _levels("1024", "English IV"),
}
AP_ENGLISH = {
    11: _nc("1025", "AP English Language and Composition", "AP"),
    12: _nc("1026", "AP English Literature and Composition", "AP"),
}
IB_ENGLISH = {
    11: _nc("1031", "IB English A: Language and Literature HL I", "IB"),
    12: _nc("1032", "IB English A: Language and Literature HL II", "IB"),
}

# Math: the standard and the accelerated sequence (NC Math 1 taken in eighth grade).
MATH_STANDARD = (
    _levels("2109", "NC Math 1"),
    _levels("2201", "NC Math 2"),
    _levels("2202", "NC Math 3"),
)
MATH_FOURTH = (
    _levels("2406", "NC Math 4"),
    _levels("2403", "Advanced Functions and Modeling"),
    _levels("2410", "Discrete Mathematics for Computer Science"),
    _levels("2407", "Precalculus"),
)
PRECALCULUS = _levels("2407", "Precalculus")
AP_MATH = (
    _nc("2501", "AP Calculus AB", "AP"),
    _nc("2502", "AP Calculus BC", "AP"),
    _nc("2503", "AP Statistics", "AP"),
)
IB_MATH = _nc("2541", "IB Mathematics: Analysis and Approaches SL", "IB")

# Science by grade; grade 12 picks from the options (the fourth science is an elective).
SCIENCE = {
    9: _levels("3001", "Earth/Environmental Science"),
    10: _levels("3020", "Biology"),
    11: _levels("3051", "Chemistry"),
}
PHYSICAL_SCIENCE = _nc("3041", "Physical Science")
SCIENCE_12 = (
    _levels("3061", "Physics"),
    _levels("3031", "Anatomy and Physiology"),
    (_nc("3025", "AP Biology", "AP"), _nc("3055", "AP Chemistry", "AP")),
    (_nc("3015", "AP Environmental Science", "AP"), _nc("3065", "AP Physics 1", "AP")),
)
IB_SCIENCE = _nc("3028", "IB Biology HL", "IB")

# Social studies, both sequences (see the module docstring), by grade.
_SOCIAL_2020 = {
    9: (*_levels("4031", "World History"), _nc("4035", "AP World History: Modern", "AP")),
    10: (
        *_levels("4090", "Founding Principles of the USA and NC: Civic Literacy"),
        _nc("4051", "AP United States Government and Politics", "AP"),
    ),
    11: (*_levels("4046", "American History"), _nc("4042", "AP United States History", "AP")),
    12: (
        *_levels("4091", "Economics and Personal Finance"),
        _nc("4071", "AP Macroeconomics", "AP"),
    ),
}
_SOCIAL_2010 = {
    9: _SOCIAL_2020[9],
    10: (
        *_levels("4095", "American History: Founding Principles, Civics and Economics"),
        _nc("4051", "AP United States Government and Politics", "AP"),
    ),
    11: (*_levels("4047", "American History I"), _nc("4042", "AP United States History", "AP")),
    12: (*_levels("4048", "American History II"), _nc("4042", "AP United States History", "AP")),
}
FIRST_COHORT_2020_SEQUENCE = 2024


def social_studies(cohort_year: int, grade: int) -> tuple[CourseDef, CourseDef, CourseDef]:
    """(standard, honors, AP) social studies course of a grade for a graduating class."""
    table = _SOCIAL_2020 if cohort_year >= FIRST_COHORT_2020_SEQUENCE else _SOCIAL_2010
    return table[grade]


HEALTH_PE = _nc("9001", "Health and Physical Education")

# World languages: levels I.. of each language; level III and up are honors.
LANGUAGES = {
    "Spanish": (
        _nc("1141", "Spanish I"),
        _nc("1142", "Spanish II"),
        _nc("1143", "Spanish III Honors", "Honors"),
        _nc("1144", "Spanish IV Honors", "Honors"),
        _nc("1145", "AP Spanish Language and Culture", "AP"),
    ),
    "French": (
        _nc("1131", "French I"),
        _nc("1132", "French II"),
        _nc("1133", "French III Honors", "Honors"),
        _nc("1135", "AP French Language and Culture", "AP"),
    ),
    "Latin": (
        _nc("1101", "Latin I"),
        _nc("1102", "Latin II"),
        _nc("1103", "Latin III Honors", "Honors"),
        _nc("1105", "AP Latin", "AP"),
    ),
    "German": (_nc("1121", "German I"), _nc("1122", "German II")),
    "Chinese": (_nc("1161", "Mandarin Chinese I"), _nc("1162", "Mandarin Chinese II")),
}
LANGUAGE_WEIGHTS = {"Spanish": 60, "French": 20, "Latin": 8, "German": 5, "Chinese": 7}

# Career and technical education pathways, in the order a student takes them.
CTE_PATHWAYS = (
    (
        _nc("BB30", "Principles of Business and Finance"),
        _nc("BM10", "Microsoft Word and PowerPoint"),
        _nc("BM20", "Microsoft Excel"),
        _nc("BA10", "Accounting I", "Honors"),
    ),
    (
        _nc("HU40", "Health Science I"),
        _nc("HU42", "Health Science II", "Honors"),
        _nc("HN42", "Nursing Fundamentals", "Honors"),
    ),
    (
        _nc("IT10", "PLTW Introduction to Engineering Design", "Honors"),
        _nc("IT12", "PLTW Principles of Engineering", "Honors"),
        _nc("IT15", "PLTW Engineering Design and Development", "Honors"),
    ),
    (
        _nc("AA21", "Agriscience Applications"),
        _nc("AS31", "Animal Science I"),
        _nc("AH41", "Horticulture I"),
    ),
    (
        _nc("FN41", "Foods and Nutrition I"),
        _nc("FH10", "Culinary Arts and Hospitality I"),
        _nc("FH11", "Culinary Arts and Hospitality II"),
    ),
    (
        _nc("TA11", "Automotive Service Fundamentals"),
        _nc("TA21", "Automotive Systems I"),
        _nc("TA22", "Automotive Systems II"),
    ),
    (
        _nc("WP10", "Computer Science Principles"),
        _nc("WC31", "AP Computer Science Principles", "AP"),
        _nc("WC32", "AP Computer Science A", "AP"),
    ),
    (_nc("IC21", "Carpentry I"), _nc("IC22", "Carpentry II"), _nc("IC23", "Carpentry III")),
)

# Arts sequences: beginning, intermediate, proficient and advanced (the last two honors).
ARTS = (
    (
        _nc("5410", "Visual Arts Beginning"),
        _nc("5411", "Visual Arts Intermediate"),
        _nc("5412", "Visual Arts Proficient Honors", "Honors"),
        _nc("5415", "AP 2-D Art and Design", "AP"),
    ),
    (
        _nc("5250", "Band Beginning"),
        _nc("5251", "Band Intermediate"),
        _nc("5252", "Band Proficient Honors", "Honors"),
        _nc("5253", "Band Advanced Honors", "Honors"),
    ),
    (
        _nc("5270", "Chorus Beginning"),
        _nc("5271", "Chorus Intermediate"),
        _nc("5272", "Chorus Proficient Honors", "Honors"),
    ),
    (
        _nc("5310", "Theatre Arts Beginning"),
        _nc("5311", "Theatre Arts Intermediate"),
        _nc("5312", "Theatre Arts Proficient Honors", "Honors"),
    ),
    (_nc("5350", "Dance Beginning"), _nc("5351", "Dance Intermediate")),
)

# Electives anyone may take, and semester-long ones that earn half a credit in a year-long
# (traditional) schedule.
ELECTIVES = (
    _nc("9610", "JROTC Leadership Education and Training I"),
    _nc("1050", "Creative Writing"),
    _nc("1052", "Journalism"),
    _nc("1054", "Yearbook I"),
    _nc("4301", "Psychology"),
    _nc("4302", "Sociology"),
    _nc("4307", "AP Psychology", "AP"),
    _nc("4044", "AP Human Geography", "AP"),
    _nc("9007", "Weight Training and Conditioning"),
    _nc("4303", "African American Studies"),
    _nc("3081", "Forensic Science"),
    _nc("FC20", "Teacher Cadet", "Honors"),
    _nc("3082", "Marine Science"),
    _nc("3083", "Astronomy"),
    _nc("4304", "Contemporary Law and Justice"),
    _nc("1060", "Debate I"),
    _nc("5290", "Guitar I"),
    _nc("5420", "Ceramics I"),
    _nc("9010", "Sports Medicine"),
    _nc("BM40", "Multimedia and Webpage Design"),
    _nc("9611", "JROTC Leadership Education and Training II"),
    _nc("4311", "Holocaust and Genocide Studies"),
)
HALF_CREDIT_ELECTIVES = (
    _nc("CP10", "Career Management", halves=1),
    _nc("9008", "Lifetime Fitness", halves=1),
    _nc("9009", "Personal Fitness", halves=1),
    _nc("1056", "Introduction to Film", halves=1),
    _nc("1058", "Speech", halves=1),
    _nc("4310", "Current Events", halves=1),
)
# Pass/fail: a P on the transcript, credit earned, no quality points, outside the GPA.
PASS_FAIL = (
    CourseDef("9900X0", "Student Aide", "Standard", pass_fail=True),
    CourseDef("CS95X0", "CTE Internship", "Standard", pass_fail=True),
)

CCP_COURSES = (
    _ccp("ENG 111", "Writing and Inquiry"),
    _ccp("ENG 112", "Writing/Research in the Disciplines"),
    _ccp("MAT 171", "Precalculus Algebra"),
    _ccp("PSY 150", "General Psychology"),
    _ccp("HIS 131", "American History I"),
    _ccp("BIO 111", "General Biology I"),
    _ccp("COM 231", "Public Speaking"),
    _ccp("SOC 210", "Introduction to Sociology"),
)

# Courses a student needs to graduate: never withdrawn from in synthetic data.
CORE_CODES = frozenset(
    course.code
    for group in (
        *ENGLISH.values(),
        tuple(AP_ENGLISH.values()),
        tuple(IB_ENGLISH.values()),
        *MATH_STANDARD,
        *MATH_FOURTH,
        PRECALCULUS,
        AP_MATH,
        *SCIENCE.values(),
        *SCIENCE_12,
        *_SOCIAL_2020.values(),
        *_SOCIAL_2010.values(),
        (IB_MATH, IB_SCIENCE, PHYSICAL_SCIENCE, HEALTH_PE),
    )
    for course in group
)


# --- grading -------------------------------------------------------------------------------
# NC's uniform 10-point scale (State Board of Education, since 2015-16): A 90-100, B 80-89,
# C 70-79, D 60-69, F below 60; quality points A 4, B 3, C 2, D 1, F 0. Honors add 0.5; AP,
# IB and college (CCP) courses add 1.0, on a passing grade only. Kept in halves of a point,
# so that sums over courses (credits in halves too) stay exact integers.
LEVEL_BONUS_HALVES = {
    "Standard": 0,
    "Remedial": 0,
    "Honors": 1,
    "AP": 2,
    "IB": 2,
    "CollegeCredit": 2,
}
LETTER_HALVES = {"A": 8, "B": 6, "C": 4, "D": 2, "F": 0}


def quality_points(grade: str, level: str, credits: Decimal) -> Decimal:
    """Weighted quality points of one course record (0 for P, W, IP and F)."""
    halves = LETTER_HALVES.get(grade, 0)
    if halves:
        halves += LEVEL_BONUS_HALVES[level]
    return Decimal(halves) / 2 * credits
