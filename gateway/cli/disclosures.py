"""`gateway disclosures`: read a district's FERPA record of disclosures (34 CFR 99.32)."""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from typing import Any

import click

from gateway.cli.context import district_stores, resolved, run, state
from gateway.cli.options import StartDate
from gateway.cli.output import emit, emit_json
from gateway.spreadsheet import csv_cell
from tenants.queries import disclosures as disclosure_log
from tenants.transaction import tenant_transaction

COLUMNS = [
    "occurred_at",
    "student_id",
    "event",
    "channel",
    "consumer_name",
    "recipient",
    "purpose",
    "legal_basis",
    "request_tracking_id",
    "document_id",
    "document_sha256",
    "pesc_version",
    "client_id",
    "disclosure_id",
]
TABLE = ["occurred_at", "student_id", "event", "consumer_name", "recipient", "request_tracking_id"]
_PAGE = 1000


async def read_all(
    settings: Any, lea: str, where: disclosure_log.DisclosureFilter
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    async with (
        district_stores(settings, lea) as (stores, district),
        tenant_transaction(stores, district, readonly=True) as tx,
    ):
        while True:
            page = await disclosure_log.disclosures(tx, where, limit=_PAGE, offset=len(rows))
            rows.extend(page)
            if len(page) < _PAGE:
                return rows


@click.command("disclosures")
@click.option("--district", "lea", required=True, help="LEA code.")
@click.option("--student", "student_id", help="Only this student (state id).")
@click.option("--since", type=StartDate(), help="From this date (YYYY-MM-DD) on.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (every column) for spreadsheets.")
@click.pass_context
def disclosures(
    ctx: click.Context,
    lea: str,
    student_id: str | None,
    since: datetime | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The district's record of disclosures and refused requests, newest first.

    \b
    Every transcript the gateway released (and every request refused for a hold or a
    missing release authorization) with who asked, who received it, the purpose and legal
    basis, when, and the SHA-256 of the exact bytes sent.
    """
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")

    async def go() -> list[dict[str, Any]]:
        settings = await resolved(state(ctx).settings)
        return await read_all(
            settings, lea, disclosure_log.DisclosureFilter(student_id=student_id, since=since)
        )

    rows = run(go())
    if as_csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(COLUMNS)
        writer.writerows([csv_cell(row.get(c)) for c in COLUMNS] for row in rows)
    elif as_json:
        emit_json(rows)
    else:
        emit(rows, as_json=False, columns=TABLE, title=f"Disclosures of district {lea.upper()}")


COMMANDS = [disclosures]
