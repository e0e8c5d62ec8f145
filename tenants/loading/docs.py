"""docs/data-formats.md, generated from `columns` so that the two cannot disagree.

python -m tenants.loading.docs > docs/data-formats.md
"""

from __future__ import annotations

import sys

from tenants.loading.columns import TABLES, Column

_INTRO = """\
# District data formats

How a district's records reach the gateway: `gateway data load --district LEA PATH`, the
admin API (`POST /admin/api/v1/districts/{lea}/loads`) or the console's **District data**
page. Two formats are accepted.

- **CSV bundle**: a folder or a `.zip` with one CSV file per table below.
- **PESC High School Transcript XML** 1.3.0 or 1.5.0: one document per student, as a single
  file, a folder or a `.zip` of them, UTF-8 or UTF-16 with a byte order mark.

`gateway data template --dir DIR` writes the seven CSV files with their header rows;
`--example` fills them with a small, valid example district:

```sh
gateway data template --dir example --example
gateway data load --district 920 example --dry-run
gateway data load --district 920 example
```

## How a load behaves

- **Validated first, whole.** Every row of every file is checked before anything is written.
  Every error is reported with its file, line (for XML: the element's line and XPath),
  column, value and reason: the first 1,000 in full, and the count of all. On any error
  nothing is written.
- **One transaction.** A valid load is applied in one transaction: readers see the old data
  or the new, never a mix. A load that breaks off (a lost connection, a stopped server)
  writes nothing.
- **Snapshot** (the default): the files are the district's students as of now. Every
  student listed has their rows replaced by the rows of the files. Students of the district
  that the files do not list are kept as they were (their record of disclosures must keep its
  student) and listed as *not current*.
- **Merge** (`--mode merge`): a partial file, for nightly deltas. Only the students listed are
  replaced; the others are untouched. `schools.csv` and `academic_sessions.csv` may be left
  out.
- **Idempotent.** Loading the same source again (the same SHA-256) in the same mode changes
  nothing and is reported as `unchanged`.
- **Only what changed is written.** A snapshot that differs a little from the data loaded
  (tonight's export against last night's) inserts the new rows, updates the changed ones,
  deletes the ones the files no longer have, and leaves every other row untouched. The load's
  counts say how many rows of each table were written (`rows_written`) and deleted
  (`rows_deleted`).
- **One district per load.** A `district_id` column is allowed in any file; if present, every
  row must name the district being loaded (its LEA code, e.g. `920`). The database refuses rows
  of another district as well.
- Schools and sessions are upserted and never deleted (a student not current may still refer
  to them).
- **A session is its school, year and term.** Its `session_id` links the files' rows to it; if
  the district's system numbers its sessions anew between two exports, the load matches them
  to the stored sessions by school, year and term and keeps the stored numbers
  (`sessions_renumbered` counts them). A re-load of a renumbered export changes nothing.
- **Interrupted loads are recorded.** A load whose process stops (killed, a lost host) writes
  nothing, and the gateway's housekeeping records it as `failed` ("interrupted") at its next
  round (every 10 minutes). A load's list of errors (which may quote values of the files) is
  emptied `GATEWAY_LOAD_ERRORS_DAYS` days (30) after it finished; its counts are kept.

## A statewide load

`gateway data load-all DIR` loads every district of a folder that holds one bundle per
district, named by its LEA code: a sub-folder (`exports/920/`) or a zip (`exports/920.zip`).

```sh
gateway data load-all exports/
gateway data load-all exports/ --jobs 4 --json
```

Each district is its own load, exactly as above (validated whole, one transaction, recorded).
A district that is rejected or fails is reported and nothing of it is written; the others are
loaded all the same. `--jobs N` (default 2) loads N districts at a time: one is validated
while another is applied by PostgreSQL. The exit status is 0 when every district succeeded
(or was unchanged), 1 otherwise; `--json` reports each district's status, counts and first
errors.

## CSV bundle

- One file per table, named `<table>.csv`, in the folder or zip (sub-folders are fine). A
  snapshot needs all seven (a header row alone is enough for an empty table); any other
  file is an error.
- UTF-8, with or without a byte order mark. A UTF-16 file, or a byte that is not UTF-8, is an
  error naming the line.
- The first line names the columns, in any order. A column not listed below is an error, and
  so is a missing required one. Values are trimmed; an empty value is "no value".
- RFC 4180 quoting: a value with a comma, a quote or a line break is quoted (`"Smith, Jr"`).
- Rows of the student tables (course records, GPA, test scores, holds) must belong to a
  student of `students.csv`.
"""

_PESC = """\
## PESC High School Transcript

What is read from each document (elements are unqualified, as the schemas say):

| Element | Becomes |
|---|---|
| `Student/Person/AgencyIdentifier` with `AgencyCode` `State`: `AgencyAssignedID` (else `Person/AgencyAssignedID`) | `students.student_id` (required) |
| `Person/SchoolAssignedPersonID` | `local_id` (default: the state id) |
| `Person/Birth/BirthDate`, the `Legal` (else first) `Name`, `Gender/GenderCode` | birth date, names, gender |
| first `AcademicRecord/School`, else `TransmissionData/Source/Organization`: `OrganizationName`, `CEEBACT`, `CCD`, `LocalOrganizationID`, `Contacts/Address`, `Contacts/Phone` | the student's school |
| a later `AcademicRecord/School` with `SchoolOverrideCode` `Transfer` | an `external` school |
| `AcademicRecord/StudentLevel`, `CohortGraduationYear`, `AcademicAward` (completed) | grade level, cohort, graduation date and diploma |
| `AcademicSession/AcademicSessionDetail`: `SessionDesignator` or `SessionBeginDate`, `SessionEndDate`, `SessionSchoolYear`, `SessionName`, `SessionType` | a session (term: `FullYear`, `Summer` for summer sessions, else `Semester1` from August, `Semester2` before) |
| `Course`: `CourseNumber` or `AgencyCourseID`, `CourseTitle`, `CourseAcademicGrade`, `CourseCreditValue`, `CourseCreditEarned`, `CourseQualityPointsEarned`, `CourseLevel` or `CourseCreditBasis` | a course record |
| `AcademicSummary` (`Weighted`, `NonWeighted` or `All`): `GPA/GradePointAverage`, `CreditHoursAttempted`, `CreditHoursEarned`, `ClassRank`, `ClassSize` | the GPA summary (credits default to the sum of the courses') |
| `Student/Tests` of the SAT, ACT or PSAT: `TestDate`, each `Subtest`'s name and `ScoreValue` | test scores |

Nothing else is stored (data minimisation): an SSN, ethnicity, parents, the student's address
and other tests are read past. Parsing refuses DTDs and entities and bounds each document's
size (16 MiB), as for TranscriptRequests. Schools and sessions get stable numbers derived from
what identifies them (a school's CEEB code; a session's school, year and term), so the same
school has the same number in every load.
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\|") if text else ""


def _row(column: Column) -> str:
    required = "yes" if column.required else "no"
    allowed = column.allowed or ""
    example = f"`{column.example}`" if column.example else ""
    return (
        f"| `{column.name}` | {column.type} | {required} | {_cell(allowed)} | {example} |"
        f" {_cell(column.meaning)} |"
    )


def render() -> str:
    parts = [_INTRO]
    for table in TABLES:
        parts.append(f"### {table.file_name}\n\n{table.meaning}\n")
        parts.append("| Column | Type | Required | Allowed values | Example | Meaning |")
        parts.append("|---|---|---|---|---|---|")
        parts.extend(_row(c) for c in table.columns)
        parts.append("")
    parts.append(
        "Types: *integer* is a whole number; *decimal* a number with a point (`3.75`), no "
        "thousands separator; *date* is `YYYY-MM-DD`; *timestamp* is ISO 8601 with a UTC "
        "offset (`2024-02-01T10:00:00-05:00`); *text* is UTF-8 without control characters.\n"
    )
    parts.append(_PESC)
    return "\n".join(parts)


if __name__ == "__main__":
    sys.stdout.write(render())
