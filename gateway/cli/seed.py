"""`gateway seed`: fill the data stores with synthetic North Carolina districts."""

from __future__ import annotations

from datetime import date, datetime

import click

from gateway.cli.context import resolved, run, state
from gateway.cli.migrate import migrate_all
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit, progress
from tenants.synthetic.generator import MAX_DISTRICTS, Term
from tenants.synthetic.seed import DEFAULT_SEED, SeedReport, seed

_EPILOG = """\b
Typical sizes (2 cores, embedded Postgres, fresh home):
  gateway seed                                  10 x 1,000 students, 250k rows   ~3 s
  gateway seed --districts 300 --students 1000  7.6M rows (8.4M in spring)  ~1 min
\b
Each 1,000 students make about 19,000 course records (21,000 in spring, once the fall
semester is complete), 4,000-5,000 test scores, 800-900 GPA summaries and 25 holds.
"""


@click.command("seed", epilog=_EPILOG)
@click.option(
    "--districts",
    type=click.IntRange(1, MAX_DISTRICTS),
    default=10,
    show_default=True,
    help="How many districts: the real LEAs first (920 Wake, 600 Charlotte-Mecklenburg, "
    "320 Durham, ...; 115 in all), then charter schools (92F, 01B, ...).",
)
@click.option(
    "--students",
    type=click.IntRange(0, 200_000),
    default=1000,
    show_default=True,
    help="Students per district, grades 9-12 plus last year's graduates.",
)
@click.option(
    "--seed",
    "seed_value",
    type=int,
    default=DEFAULT_SEED,
    show_default=True,
    help="Random seed: the same seed and term give the same rows, byte for byte.",
)
@click.option(
    "--as-of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Make data as of the term containing this date (default: today). Courses of the "
    "current term are in progress (IP); tests and holds are dated before mid-term.",
)
@json_option
@click.pass_context
def seed_command(
    ctx: click.Context,
    districts: int,
    students: int,
    seed_value: int,
    as_of: datetime | None,
    as_json: bool,
) -> None:
    """Generate synthetic NC districts and bulk-load them, for demos and load tests.

    Each district gets its high schools (1-6 by size, NCES ids, CEEB codes, NC addresses) and
    a few out-of-district schools transfer students came from; a block or traditional
    session calendar; students with varied names, NC UIDs and birth dates to match their
    class; Future-Ready Core course histories graded on NC's 10-point scale with honors and
    AP weighting; GPA summaries and class ranks computed from those courses; ACT, SAT and
    PSAT scores; and a few transcript holds (about 1.5% active).

    Deterministic: the same --seed, sizes and term give identical rows. Idempotent: districts
    that already hold data are skipped, so a re-run only adds what is missing (with a
    larger --districts, the next districts of the list). Migrates first if needed; loads
    with COPY as the owner role (GATEWAY_MIGRATION_DATABASE_URL); progress goes to stderr.
    Refused with GATEWAY_ENV=production.
    """
    term = Term.containing(as_of.date() if as_of else date.today())

    async def go() -> SeedReport:
        settings = await resolved(state(ctx).settings, create=True)
        await migrate_all(settings)
        with progress("Seeding districts", total=districts) as bar:
            return await seed(
                settings,
                districts=districts,
                students_per_district=students,
                seed=seed_value,
                term=term,
                progress=bar.update,
                actor=cli_actor(),
            )

    report = run(go())
    if as_json:
        emit(report.as_dict(), as_json=True)
        return
    _print_summary(report)


def _print_summary(report: SeedReport) -> None:
    seconds = report.elapsed_seconds
    rows = [{"table": table, "rows": f"{count:,}"} for table, count in report.rows.items()]
    total = sum(report.rows.values())
    rows.append({"table": "total", "rows": f"{total:,}"})
    emit(rows, as_json=False, columns=["table", "rows"], title="Rows loaded")
    term = report.term
    emit(
        {
            "districts_loaded": len(report.loaded),
            "districts_created": report.districts_created,
            "districts_skipped": f"{report.districts_skipped} (already had data)",
            "term": f"{term.school_year - 1}-{term.school_year} "
            + ("fall" if term.semester == 1 else "spring"),
            "seed": report.seed,
            "elapsed": f"{seconds:.1f} s"
            + (f" ({total / seconds:,.0f} rows/s)" if total and seconds else ""),
        },
        as_json=False,
    )


COMMANDS = [seed_command]
