"""`gateway data template`: the bundle's files with their headers, or a small valid example.

The example is a district with one high school, four school years of semesters and three
students (a graduate, a senior with a course in progress and a hold, a junior), so that a
first load can be tried end to end before any real export exists.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from tenants.loading.columns import TABLES

_SCHOOL = [
    "1",
    "high",
    "Example High School",
    "370000000001",
    "340001",
    "920-301",
    "100 School St",
    "Raleigh",
    "NC",
    "27601",
    "919-555-0100",
]
_STUDENTS = [
    # student_id, local_id, school_id, first, middle, last, suffix, birth, gender, grade,
    # cohort, entry, graduation, diploma
    [
        "9000000001",
        "E0001",
        "1",
        "Avery",
        "",
        "Example",
        "",
        "2006-05-02",
        "Female",
        "13",
        "2024",
        "2020-08-24",
        "2024-06-08",
        "Future-Ready Core Diploma",
    ],
    [
        "9000000002",
        "E0002",
        "1",
        "Jordan",
        "Lee",
        "Sample",
        "Jr",
        "2007-01-15",
        "Male",
        "12",
        "2025",
        "2021-08-23",
        "",
        "",
    ],
    [
        "9000000003",
        "E0003",
        "1",
        "Riley",
        "",
        "Specimen",
        "",
        "2008-03-30",
        "Unreported",
        "11",
        "2026",
        "2022-08-29",
        "",
        "",
    ],
]
_COURSES = [
    ("English", "10212X0", "Standard"),
    ("Math", "22012X0", "Honors"),
    ("Biology", "33202X0", "Standard"),
    ("World History", "43032X0", "AP"),
]
_GRADES = {"A": "4.0", "B+": "3.3", "A-": "3.7", "B": "3.0"}


def _sessions() -> Iterator[list[str]]:
    for index, year in enumerate(range(2021, 2026)):
        yield [
            str(2 * index + 1),
            "1",
            str(year),
            "Semester1",
            f"Fall {year - 1}",
            f"{year - 1}-08-23",
            f"{year}-01-14",
        ]
        yield [
            str(2 * index + 2),
            "1",
            str(year),
            "Semester2",
            f"Spring {year}",
            f"{year}-01-19",
            f"{year}-06-08",
        ]


def _course_rows() -> Iterator[list[str]]:
    for student in _STUDENTS:
        student_id, cohort = student[0], int(student[10])
        record = 0
        for year in range(cohort - 3, min(cohort, 2025) + 1):
            session = 2 * (year - 2021) + 1
            if session < 1:
                continue
            for (title, code, level), grade in zip(_COURSES, _GRADES, strict=False):
                record += 1
                in_progress = year == 2025 and cohort == 2025 and title == "English"
                letter = "IP" if in_progress else grade
                earned = "0" if in_progress else "1.0"
                points = "0" if in_progress else _GRADES[grade]
                yield [
                    student_id,
                    str(record),
                    str(session),
                    str(12 - (cohort - year)),
                    code,
                    f"{title} {year - cohort + 4}",
                    level,
                    letter,
                    "1.0",
                    earned,
                    points,
                ]


def example_rows() -> dict[str, list[list[str]]]:
    """The example district, per table, in the column order of `columns.TABLES`."""
    return {
        "schools": [_SCHOOL],
        "academic_sessions": list(_sessions()),
        "students": _STUDENTS,
        "course_records": list(_course_rows()),
        "gpa_summaries": [
            ["9000000001", "2024-06-08", "3.875", "3.500", "16.0", "16.0", "12", "310"],
            ["9000000002", "2025-01-14", "3.700", "3.400", "12.0", "12.0", "", ""],
        ],
        "test_scores": [
            ["9000000001", "1", "SAT", "Total", "1310", "2023-10-07"],
            ["9000000001", "2", "SAT", "Math", "650", "2023-10-07"],
            ["9000000002", "1", "ACT", "Composite", "27", "2024-09-14"],
        ],
        "transcript_holds": [
            [
                "9000000002",
                "1",
                "Financial",
                "Unpaid textbook fee",
                "2025-01-06T10:00:00-05:00",
                "",
            ],
        ],
    }


def write_template(folder: Path, *, example: bool = False) -> list[Path]:
    """Write `<table>.csv` for every table into `folder` (created if needed); returns them.
    Refuses to overwrite: FileExistsError names the first file already there."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / t.file_name for t in TABLES]
    for path in paths:
        if path.exists():
            raise FileExistsError(f"{path} exists; choose an empty folder")
    rows = example_rows() if example else {}
    for table, path in zip(TABLES, paths, strict=True):
        with open(path, "w", encoding="utf-8", newline="") as stream:
            writer = csv.writer(stream, lineterminator="\n")
            writer.writerow(table.header)
            writer.writerows(rows.get(table.name, []))
    return paths
