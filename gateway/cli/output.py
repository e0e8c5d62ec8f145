"""How commands print: a readable table for people, `--json` for scripts, progress on stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal | UUID):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_json(data: Any) -> str:
    return json.dumps(data, default=_default, indent=2, ensure_ascii=False)


def json_line(data: Any) -> str:
    """One JSON object on one line (JSON Lines), for log pipelines."""
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":"))


def emit_json(data: Any) -> None:
    click.echo(to_json(data))


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value)
    return str(value)


def emit_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], title: str = "") -> None:
    if not rows:
        click.echo(f"{title + ': ' if title else ''}nothing to show.")
        return
    table = Table(title=title or None, show_lines=False, header_style="bold")
    for column in columns:
        table.add_column(column.replace("_", " "))
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    Console(soft_wrap=True).print(table)


def emit(
    data: Any, *, as_json: bool, columns: Sequence[str] | None = None, title: str = ""
) -> None:
    """Print `data` as JSON or, for people, as a table (lists) or key/value lines (mappings)."""
    if as_json:
        emit_json(data)
    elif isinstance(data, list):
        emit_table(data, columns or (list(data[0]) if data else []), title)
    elif isinstance(data, Mapping):
        width = max((len(k) for k in data), default=0)
        for key, value in data.items():
            click.echo(f"{key.replace('_', ' '):<{width}}  {_cell(value)}")
    else:
        click.echo(str(data))


@contextmanager
def progress(description: str, total: int, *, enabled: bool = True) -> Iterator[Any]:
    """A progress bar on stderr (so `--json` output on stdout stays clean)."""
    if not enabled:
        yield _NoProgress()
        return
    bar = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=False,
    )
    with bar:
        task = bar.add_task(description, total=total, note="")
        yield _BarHandle(bar, task)


class _BarHandle:
    def __init__(self, bar: Progress, task: Any) -> None:
        self._bar = bar
        self._task = task

    def advance(self, amount: int = 1) -> None:
        self._bar.advance(self._task, amount)

    def update(self, completed: int, total: int | None = None) -> None:
        self._bar.update(self._task, completed=completed, total=total)

    def note(self, text: str) -> None:
        """A short text beside the count (a rate, say)."""
        self._bar.update(self._task, note=text)


class _NoProgress:
    def advance(self, amount: int = 1) -> None:
        return None

    def update(self, completed: int, total: int | None = None) -> None:
        return None

    def note(self, text: str) -> None:
        return None
