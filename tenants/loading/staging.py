"""Validated rows on their way to COPY: one CSV spool file per table, in a temporary folder.

Validation streams the input once and writes each good row here in canonical form, so memory
holds keys (to check duplicates and references), never the rows. The apply step then COPYs
these files into the transaction's staging tables.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import IO, Any

from tenants.loading.columns import DISTRICT_COLUMN, TABLES, Table


def copy_columns(table: Table) -> tuple[str, ...]:
    """The spool files' column order: district_id, then the table's columns."""
    return (DISTRICT_COLUMN, *table.header)


class Staged:
    """Spool files and what was counted into them."""

    def __init__(self, folder: Path, stack: ExitStack) -> None:
        self.folder = folder
        self.counts = {t.name: 0 for t in TABLES}
        self.student_ids: list[str] = []  # listed by the load, in file order
        self._files: dict[str, IO[str]] = {}
        self._writers: dict[str, Any] = {}  # csv writers (their type is private)
        for table in TABLES:
            # Closed by the ExitStack of `staging()`, with the folder.
            stream = stack.enter_context(
                open(self.path(table.name), "w", encoding="utf-8", newline="")  # noqa: SIM115
            )
            self._files[table.name] = stream
            self._writers[table.name] = csv.writer(stream, lineterminator="\n")

    def path(self, table: str) -> Path:
        return self.folder / f"{table}.csv"

    def write(self, table: str, district_id: str, values: Sequence[str | None]) -> None:
        """One row: the district's id, then the table's columns in header order."""
        # COPY ... (FORMAT csv): an unquoted empty field is NULL; every non-empty value we
        # write is non-empty text, so None -> "" is unambiguous.
        self._writers[table].writerow([district_id, *("" if v is None else v for v in values)])
        self.counts[table] += 1

    def flush(self) -> None:
        for stream in self._files.values():
            stream.flush()

    @property
    def students(self) -> int:
        return self.counts["students"]


@contextmanager
def staging() -> Iterator[Staged]:
    """A fresh set of spool files, deleted afterwards."""
    with TemporaryDirectory(prefix="gateway-load-") as folder, ExitStack() as stack:
        yield Staged(Path(folder), stack)
