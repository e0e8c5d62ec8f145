"""`gateway data ...`: load a district's real records from its SIS exports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from gateway.cli.context import district_stores, resolved, run, state
from gateway.cli.migrate import migrate_all
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit, progress
from tenants.loading import FORMATS, LoadRequest, LoadResult, load_district
from tenants.loading.template import write_template


@click.group("data")
def data() -> None:
    """Load districts' records from their student information systems.

    Two formats: a CSV bundle (a folder or .zip with one CSV per table; see
    docs/data-formats.md and `gateway data template`) or PESC High School Transcript XML
    (1.3.0 or 1.5.0; one document per student: a file, a folder or a .zip).
    """


_TEMPLATE_EPILOG = """\b
Examples:
  gateway data template --dir bundle              empty files with their header rows
  gateway data template --dir example --example   a small, valid example district
  gateway data load --district 920 example        load it into district 920
"""


@data.command("template", epilog=_TEMPLATE_EPILOG)
@click.option(
    "--dir",
    "folder",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the seven CSV files into (created if needed; files must not exist).",
)
@click.option("--example", is_flag=True, help="Fill the files with a small example district.")
@json_option
def template_command(folder: Path, example: bool, as_json: bool) -> None:
    """Write the CSV bundle's files: one per district table, each with its header row."""
    try:
        paths = write_template(folder, example=example)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from exc
    emit(
        {"folder": str(folder), "files": [p.name for p in paths], "example": example},
        as_json=as_json,
    )


_LOAD_EPILOG = """\b
Examples:
  gateway data load --district 920 wake-2025-06-01.zip
  gateway data load --district 920 nightly.zip --mode merge
  gateway data load --district 920 transcripts/ --format pesc --dry-run --json
\b
Exit status: 0 when the load succeeded, was validated (--dry-run) or was unchanged (the same
source as the data already loaded); 1 when it was rejected or failed (nothing written).
"""


@data.command("load", epilog=_LOAD_EPILOG)
@click.option("--district", "lea", required=True, help="LEA code of the district, e.g. 920.")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="csv (a bundle) or pesc (transcripts). Default: told from the files' extensions.",
)
@click.option(
    "--mode",
    type=click.Choice(["snapshot", "merge"]),
    default="snapshot",
    show_default=True,
    help="snapshot: the district's students as of now (those not listed are kept and marked "
    "not current). merge: replace only the students listed (nightly deltas).",
)
@click.option("--dry-run", is_flag=True, help="Validate and report; write nothing.")
@json_option
@click.pass_context
def load_command(
    ctx: click.Context,
    lea: str,
    path: Path,
    fmt: str | None,
    mode: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Validate PATH and load it as district LEA's data, in one transaction.

    Every error is reported with its file, line (or XPath), column, value and reason (the
    first 1,000, and the count); on any error nothing is written. Each load is recorded
    (who, when, source digest, counts, outcome) and shown on the console's District data page.
    """
    request = LoadRequest(path, fmt, merge=mode == "merge", dry_run=dry_run)  # type: ignore[arg-type]

    async def go() -> LoadResult:
        settings = await resolved(state(ctx).settings)
        await migrate_all(settings)
        async with district_stores(settings, lea) as (stores, district):
            with progress(f"Loading {district.lea_code}", total=100, enabled=not as_json) as bar:

                def advanced(phase: str, done: int, total: int) -> None:
                    # Validation is 90% of the bar, the transaction the rest.
                    share = (
                        90 * done // max(total, 1)
                        if phase == "validate"
                        else 90 + (10 * done // max(total, 1))
                    )
                    bar.update(share, 100)

                return await load_district(
                    stores, district, request, cli_actor(), progress=advanced
                )

    result = run(go())
    if as_json:
        emit(result.as_dict(), as_json=True)
    else:
        _print(result)
    if not result.ok:
        ctx.exit(1)


def _print(result: LoadResult) -> None:
    summary: dict[str, Any] = {
        "load": str(result.load_id),
        "district": result.lea_code,
        "status": result.status,
        "format": result.format,
        "source_sha256": result.source_sha256,
    }
    counts = result.counts
    if "students_listed" in counts:
        summary["students_listed"] = counts["students_listed"]
    for key in ("students_new", "students_current", "students_not_current"):
        if key in counts:
            summary[key] = counts[key]
    if result.refresh is not None:
        summary["refreshed_at"] = result.refresh.refreshed_at
    if result.message:
        summary["message"] = result.message
    summary["elapsed"] = f"{result.elapsed_seconds:.2f} s"
    emit(summary, as_json=False)
    rows = counts.get("rows") or {}
    if rows and result.status in ("succeeded", "validated"):
        emit(
            [{"table": t, "rows": f"{n:,}"} for t, n in rows.items()],
            as_json=False,
            columns=["table", "rows"],
            title="Rows",
        )
    if result.problems:
        emit(
            [p.as_dict() for p in result.problems.problems],
            as_json=False,
            columns=["file", "line", "column", "value", "reason"],
            title=f"Errors ({result.problems.count}; nothing was written)",
        )
        if result.problems.count > len(result.problems.problems):
            click.echo(f"... and {result.problems.count - len(result.problems.problems)} more.")


COMMANDS = [data]
