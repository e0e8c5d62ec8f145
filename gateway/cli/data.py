"""`gateway data ...`: load a district's real records from its SIS exports."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from gateway.cli.context import directory_stores, district_stores, resolved, run, state
from gateway.cli.migrate import migrate_all
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit, progress
from tenants.loading import FORMATS, LoadRequest, LoadResult, load_district
from tenants.loading.statewide import (
    MAX_JOBS,
    DistrictOutcome,
    Options,
    Statewide,
    find_bundles,
    load_folder,
)
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
    if counts.get("sessions_renumbered"):
        summary["sessions_renumbered"] = counts["sessions_renumbered"]
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


_LOAD_ALL_EPILOG = """\b
Examples:
  gateway data load-all exports/                  every district in exports/, 2 at a time
  gateway data load-all exports/ --jobs 4 --json  4 at a time, a JSON report on stdout
  gateway data load-all nightly/ --mode merge     nightly deltas for every district
\b
DIR holds one bundle per district, named by its LEA code: a folder (exports/920/) or a zip
(exports/920.zip). Other entries are listed as ignored; a district with both is not loaded.
\b
Exit status: 0 when every district's load succeeded, was validated (--dry-run) or was
unchanged; 1 when any was rejected or failed (nothing of that district was written; the other
districts were loaded all the same).
"""


@data.command("load-all", epilog=_LOAD_ALL_EPILOG)
@click.argument(
    "folder", metavar="DIR", type=click.Path(exists=True, file_okay=False, path_type=Path)
)
@click.option(
    "--jobs",
    type=click.IntRange(1, MAX_JOBS),
    default=2,
    show_default=True,
    help="Districts loaded at a time: one is validated (Python) while another is applied "
    "(PostgreSQL). More than the machine's cores only queue.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="csv or pesc for every bundle. Default: told from each bundle's files.",
)
@click.option(
    "--mode",
    type=click.Choice(["snapshot", "merge"]),
    default="snapshot",
    show_default=True,
    help="As for `gateway data load`, for every district.",
)
@click.option("--dry-run", is_flag=True, help="Validate every bundle and report; write nothing.")
@json_option
@click.pass_context
def load_all_command(
    ctx: click.Context,
    folder: Path,
    jobs: int,
    fmt: str | None,
    mode: str,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Load every district of a statewide export: one bundle per district in DIR.

    Each district is its own load, as with `gateway data load`: validated whole first, then
    applied in its own transaction, recorded and audited. A district that is rejected or
    fails does not stop the others. The bar counts districts and shows students per second.
    """
    found = find_bundles(folder)
    options = Options(jobs, fmt, merge=mode == "merge", dry_run=dry_run)  # type: ignore[arg-type]

    async def go() -> Statewide:
        settings = await resolved(state(ctx).settings)
        await migrate_all(settings)
        # A connection per job for its load, one for its control-plane records, and one
        # for the directory.
        async with directory_stores(settings, pool_size=2 * jobs + 1) as (stores, directory):
            total = len(found.bundles) + len(found.doubled)
            with progress("Districts", total=total, enabled=not as_json) as bar:
                started = time.perf_counter()
                students = 0

                def done(outcome: DistrictOutcome) -> None:
                    nonlocal students
                    if outcome.status == "succeeded":
                        students += outcome.students
                    rate = students / max(time.perf_counter() - started, 1e-3)
                    bar.advance()
                    bar.note(f"{students:,} students, {rate:,.0f}/s")

                return await load_folder(
                    stores,
                    lambda lea: directory.by_lea(lea),
                    found,
                    cli_actor(),
                    options,
                    done=done,
                )

    statewide = run(go())
    if as_json:
        emit(statewide.as_dict(), as_json=True)
    else:
        _print_statewide(statewide)
    if not statewide.ok:
        ctx.exit(1)


def _print_statewide(statewide: Statewide) -> None:
    rows = [
        {
            "district": o.lea_code,
            "source": o.source,
            "status": o.status,
            "students": f"{o.students:,}",
            "errors": o.result.problems.count if o.result else "-",
            "seconds": f"{o.result.elapsed_seconds:.1f}" if o.result else "-",
            "message": o.message,
        }
        for o in statewide.outcomes
    ]
    columns = ["district", "source", "status", "students", "errors", "seconds", "message"]
    emit(rows, as_json=False, columns=columns, title="Districts")
    summary = statewide.summary()
    emit(
        {
            "districts": summary["districts"],
            **summary["statuses"],
            "students loaded": f"{summary['students_loaded']:,}",
            "elapsed": f"{summary['elapsed_seconds']:.1f} s",
            "students per second": f"{summary['students_per_second']:,}",
            "ignored": ", ".join(summary["ignored"]) or None,
        },
        as_json=False,
    )
    failed = [o for o in statewide.outcomes if not o.ok]
    if failed:
        click.echo(
            "Not loaded: " + ", ".join(o.lea_code for o in failed)
            + ". Their errors: --json, or the console's District data page."
        )  # fmt: skip


COMMANDS = [data]
