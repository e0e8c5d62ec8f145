"""The CSV bundle reader: one UTF-8 CSV per district table, streamed row by row.

Rules (docs/data-formats.md says them to the people who write the files):
* `<table>.csv` for each table of `columns.TABLES`; a snapshot needs all seven, a merge may
  leave out schools.csv and academic_sessions.csv. Any other file is an error.
* A header row names the columns, in any order; a UTF-8 byte order mark is tolerated. An
  unknown or repeated column is an error, and so is a missing required one.
* UTF-8 only: a UTF-16 file, or bytes that are not UTF-8, are reported with their line.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from typing import IO

from tenants.loading.columns import DISTRICT_COLUMN, TABLES, Table
from tenants.loading.problems import ProblemLog
from tenants.loading.sources import READ_ERRORS, Member, Source
from tenants.loading.validator import Validator, Where

Progress = Callable[[int], None]
"""Called with the number of bytes read so far."""

_OPTIONAL_IN_MERGE = frozenset({"schools", "academic_sessions"})
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_UTF8_BOM = b"\xef\xbb\xbf"


def read_bundle(
    source: Source,
    validator: Validator,
    problems: ProblemLog,
    *,
    merge: bool,
    progress: Progress | None = None,
) -> None:
    """Validate every file of the bundle, staging the good rows (see `Validator`)."""
    expected = {t.file_name: t for t in TABLES}
    seen: set[str] = set()
    for found in source.members:
        if found.base not in expected:
            problems.add(found.name, "not a file of a CSV bundle; expected: " + ", ".join(expected))
        elif found.base in seen:
            problems.add(found.name, f"a second {found.base} in the bundle")
        seen.add(found.base)
    done = 0

    def advanced(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done)

    for table in TABLES:
        member = source.member(table.file_name)
        if member is None:
            if not (merge and table.name in _OPTIONAL_IN_MERGE):
                what = "a merge" if merge else "a snapshot"
                problems.add(
                    table.file_name,
                    f"missing: {what} needs this file (a header "
                    "row alone is enough when it has no rows)",
                )
            continue
        _read_file(member, table, validator, problems, advanced)


def _read_file(
    member: Member,
    table: Table,
    validator: Validator,
    problems: ProblemLog,
    advanced: Callable[[int], None],
) -> None:
    try:
        with member.open() as raw:
            _read_rows(raw, member.name, table, validator, problems, advanced)
    except READ_ERRORS as exc:
        problems.add(member.name, f"cannot be read whole (truncated or damaged archive?): {exc}")


def _read_rows(
    raw: IO[bytes],
    name: str,
    table: Table,
    validator: Validator,
    problems: ProblemLog,
    advanced: Callable[[int], None],
) -> None:
    lines = _Lines(raw, name, problems, advanced)
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
        if header is None:
            if not lines.failed:
                problems.add(name, "empty file: the first line must name the columns", line=1)
            return
        if not _header_ok([h.strip() for h in header], name, table, problems):
            return
        header = [h.strip() for h in header]
        start = reader.line_num + 1
        for record in reader:
            where = Where(name, start)
            start = reader.line_num + 1
            if not any(field.strip() for field in record):
                continue  # a blank line
            if len(record) != len(header):
                problems.add(
                    name, f"{len(record)} fields; the header has {len(header)}", line=where.line
                )
                continue
            validator.row(table, dict(zip(header, record, strict=True)), where)
    except csv.Error as exc:
        problems.add(name, f"not valid CSV: {exc}", line=reader.line_num)


def _header_ok(header: list[str], name: str, table: Table, problems: ProblemLog) -> bool:
    before = problems.count
    allowed = set(table.header) | {DISTRICT_COLUMN}
    seen: set[str] = set()
    for column in header:
        if column not in allowed:
            problems.add(
                name,
                "unknown column (allowed: " + ", ".join(table.header) + ")",
                line=1,
                column=column,
            )
        elif column in seen:
            problems.add(name, "column named twice", line=1, column=column)
        seen.add(column)
    for spec in table.columns:
        if spec.required and spec.name not in seen:
            problems.add(name, "missing required column", line=1, column=spec.name)
    return problems.count == before


class _Lines:
    """The file's lines as text, stopping (with a problem) at the first that is not UTF-8."""

    def __init__(
        self, raw: IO[bytes], name: str, problems: ProblemLog, advanced: Callable[[int], None]
    ) -> None:
        self._raw = raw
        self._name = name
        self._problems = problems
        self._advanced = advanced
        self.failed = False

    def __iter__(self) -> Iterator[str]:
        for number, data in enumerate(self._raw, start=1):
            self._advanced(len(data))
            if number == 1:
                if data.startswith(_UTF16_BOMS):
                    self._fail(1, "UTF-16 text: save the file as UTF-8")
                    return
                data = data.removeprefix(_UTF8_BOM)
            try:
                yield data.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad = data[exc.start : exc.start + 1].hex()
                self._fail(
                    number,
                    f"not UTF-8 (byte 0x{bad} at position {exc.start + 1}); save the file as UTF-8",
                )
                return

    def _fail(self, line: int, reason: str) -> None:
        self.failed = True
        self._problems.add(self._name, reason, line=line)
