"""Row-by-row checks of a load: types and allowed values, then keys and references.

Both input formats end here: the CSV reader hands over each row as the file has it, the PESC
reader the values it mapped from a document. A good row goes to the spool files in canonical
form; a bad one adds every problem it has to the log (and nothing to the spool: the load is
refused as a whole anyway).

References are checked against the load itself and, for schools and sessions, against what
the district already has (a nightly merge need not repeat them). Every row of a student table
must belong to a student this load lists, because those students' rows are what it replaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from tenants.loading.columns import (
    ACADEMIC_SESSIONS,
    BY_NAME,
    DISTRICT_COLUMN,
    SCHOOLS,
    STUDENTS,
    Table,
)
from tenants.loading.problems import ProblemLog
from tenants.loading.staging import Staged


@dataclass(frozen=True)
class Target:
    """The district a load is for, as a row may name it."""

    district_id: int
    lea_code: str

    def names(self, value: str) -> bool:
        return value.strip().upper() in (self.lea_code.upper(), str(self.district_id))


_NO_PATHS: Mapping[str, str] = MappingProxyType({})


class Where(NamedTuple):
    """Where a row came from. A named tuple: one is made for every row of a load."""

    file: str
    line: int | None
    # Per column, where the value came from (PESC: the XPath); default: the column name.
    paths: Mapping[str, str] = _NO_PATHS

    def column(self, name: str) -> str:
        return self.paths.get(name, name)


class Validator:
    def __init__(
        self,
        target: Target,
        staged: Staged,
        problems: ProblemLog,
        *,
        known_schools: set[int],
        known_sessions: set[int],
    ) -> None:
        self.target = target
        self.staged = staged
        self.problems = problems
        self.schools = set(known_schools)
        self.sessions = set(known_sessions)
        self._bundle_schools: set[int] = set()
        self._bundle_sessions: set[int] = set()
        self._session_terms: set[tuple[str, str, str]] = set()
        self.students: dict[str, int | None] = {}  # student_id -> line listed at
        self._local_ids: set[str] = set()
        self._keys: dict[str, set[tuple[str, str]]] = {}
        self._next: dict[str, dict[str, int]] = {}
        self._gpa: set[str] = set()
        self._district_text = str(target.district_id)

    def row(self, table: Table, values: Mapping[str, str], where: Where) -> bool:
        """Check one row; stage it when good. Returns whether it was good."""
        before = self.problems.count
        district = values.get(DISTRICT_COLUMN, "").strip()
        if district and not self.target.names(district):
            self._problem(
                where,
                DISTRICT_COLUMN,
                district,
                f"row for another district; this load is for district {self.target.lea_code}",
            )
        canonical: dict[str, str | None] = {}
        get = values.get
        for name, required, parse in table.checks:
            text = get(name, "").strip()
            if not text:
                if required:
                    self._problem(where, name, None, "required value is empty")
                canonical[name] = None
                continue
            try:
                canonical[name] = parse(text)
            except ValueError as exc:
                self._problem(where, name, text, str(exc))
                canonical[name] = None
        if self.problems.count == before:
            self._relations(table, canonical, where)
        if self.problems.count != before:
            return False
        self.staged.write(table.name, self._district_text, [canonical[c] for c in table.header])
        return True

    def _problem(self, where: Where, column: str, value: str | None, reason: str) -> None:
        self.problems.add(
            where.file, reason, line=where.line, column=where.column(column), value=value
        )

    def _relations(self, table: Table, row: dict[str, str | None], where: Where) -> None:
        name = table.name
        if name == SCHOOLS.name:
            self._unique_id(row, "school_id", self._bundle_schools, where, "school")
            self.schools.add(int(row["school_id"] or 0))
        elif name == ACADEMIC_SESSIONS.name:
            self._known(row, "school_id", self.schools, where, "school")
            self._unique_id(row, "session_id", self._bundle_sessions, where, "session")
            term = (str(row["school_id"]), str(row["school_year"]), str(row["term"]))
            if term in self._session_terms:
                self._problem(
                    where,
                    "term",
                    row["term"],
                    "a second session for the same school, year and term",
                )
            self._session_terms.add(term)
            if str(row["end_date"]) < str(row["begin_date"]):
                self._problem(where, "end_date", row["end_date"], "before begin_date")
            self.sessions.add(int(row["session_id"] or 0))
        elif name == STUDENTS.name:
            self._student(row, where)
        else:
            self._student_row(table, row, where)

    def _unique_id(
        self, row: dict[str, str | None], column: str, seen: set[int], where: Where, what: str
    ) -> None:
        value = int(row[column] or 0)
        if value in seen:
            self._problem(where, column, str(value), f"duplicate {what}: listed twice")
        seen.add(value)

    def _known(
        self, row: dict[str, str | None], column: str, known: set[int], where: Where, what: str
    ) -> None:
        if int(row[column] or 0) not in known:
            self._problem(
                where,
                column,
                row[column],
                f"unknown {what}: not in this load and not already loaded",
            )

    def _student(self, row: dict[str, str | None], where: Where) -> None:
        student_id = str(row["student_id"])
        if student_id in self.students:
            first = self.students[student_id]
            self._problem(
                where,
                "student_id",
                student_id,
                "duplicate student" + (f" (first at line {first})" if first else ""),
            )
        local_id = str(row["local_id"])
        if local_id in self._local_ids:
            self._problem(where, "local_id", local_id, "duplicate local_id")
        self._local_ids.add(local_id)
        self._known(row, "school_id", self.schools, where, "school")
        graduated = row["graduation_date"]
        if graduated is not None and graduated < str(row["birth_date"]):
            self._problem(where, "graduation_date", graduated, "before birth_date")
        if student_id not in self.students:
            self.students[student_id] = where.line
            self.staged.student_ids.append(student_id)

    def _student_row(self, table: Table, row: dict[str, str | None], where: Where) -> None:
        student_id = str(row["student_id"])
        if student_id not in self.students:
            self._problem(
                where, "student_id", student_id, "unknown student: not listed in students"
            )
            return
        if table.name == "gpa_summaries":
            if student_id in self._gpa:
                self._problem(where, "student_id", student_id, "a second GPA summary")
            self._gpa.add(student_id)
            rank, size = row["class_rank"], row["class_size"]
            if rank is not None and size is not None and int(rank) > int(size):
                self._problem(where, "class_rank", rank, "greater than class_size")
            return
        if table.name == "course_records":
            self._known(row, "session_id", self.sessions, where, "session")
        numbered = next(c for c in table.columns if c.numbered)
        if row[numbered.name] is None:
            counters = self._next.setdefault(table.name, {})
            counters[student_id] = counters.get(student_id, 0) + 1
            row[numbered.name] = str(counters[student_id])
        key = (student_id, str(row[numbered.name]))
        seen = self._keys.setdefault(table.name, set())
        if key in seen:
            self._problem(where, numbered.name, key[1], "duplicate for this student")
        seen.add(key)


def table(name: str) -> Table:
    return BY_NAME[name]
