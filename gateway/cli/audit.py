"""`gateway audit export`: the audit log as JSON lines, for a SIEM."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import asyncpg
import click

from gateway.cli.context import on_control
from gateway.cli.output import json_line
from gateway.settings import Settings


@click.group("audit")
def audit() -> None:
    """The audit log: who did what, when, from where (kept as long as the disclosure log)."""


@audit.command("export")
@click.option(
    "--after-id",
    type=click.IntRange(0),
    default=0,
    show_default=True,
    help="Only events after this audit_id (the last one a previous export printed).",
)
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S"]),
    help="Only events at or after this date/time (UTC unless it says otherwise).",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.pass_context
def export(ctx: click.Context, after_id: int, since: datetime | None, output: Path | None) -> None:
    """Write every audit event as one JSON object a line (JSON Lines), oldest first.

    \b
    For a SIEM that pulls incrementally, pass the last audit_id it has:
      gateway audit export --after-id 41234 >> gateway-audit.jsonl
    The last audit_id written is printed on standard error.
    """
    from gateway.control import audit_log as events

    if since is not None and since.tzinfo is None:
        since = since.replace(tzinfo=UTC)

    async def go(conn: asyncpg.Connection, _settings: Settings) -> tuple[int, int]:
        target: TextIO = output.open("a", encoding="utf-8") if output else sys.stdout
        written, last = 0, after_id
        try:
            async for row in events.export(conn, after_id, since):
                target.write(json_line(row) + "\n")
                written, last = written + 1, int(row["audit_id"])
        finally:
            if output:
                target.close()
        return written, last

    written, last = on_control(ctx, go)
    click.echo(f"{written} events written; last audit_id {last}", err=True)


COMMANDS = [audit]
