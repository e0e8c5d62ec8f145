"""What is wrong with a load's input: every error located (file, line or XPath, column, value).

A load reports every error it finds, not just the first, so that a district fixes its export
once; the first `LIMIT` are kept in full, the rest only counted (a file of 200,000 bad rows
must not make a 200,000-entry report).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final

LIMIT: Final = 1_000
_VALUE_LIMIT: Final = 100


@dataclass(frozen=True)
class Problem:
    file: str  # the file (or the zip member, or the PESC document) at fault
    line: int | None  # 1-based line of the file (the header is line 1), or the element's line
    column: str | None  # the CSV column, or the XPath of the PESC element
    value: str | None  # the offending value, clipped
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", {self.column}"
        shown = f" {self.value!r}:" if self.value else ""
        return f"{where}:{shown} {self.reason}"


@dataclass
class ProblemLog:
    """The first LIMIT problems and the count of all."""

    problems: list[Problem] = field(default_factory=list)
    count: int = 0

    def add(
        self,
        file: str,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        self.count += 1
        if len(self.problems) < LIMIT:
            if value is not None and len(value) > _VALUE_LIMIT:
                value = value[:_VALUE_LIMIT] + "…"
            self.problems.append(Problem(file, line, column, value, reason))

    def __bool__(self) -> bool:
        return self.count > 0

    def as_list(self) -> list[dict[str, Any]]:
        return [p.as_dict() for p in self.problems]
