"""`gateway district ...` and `gateway consumer ...`: who the gateway serves."""

from __future__ import annotations

import click

from gateway.cli.context import on_control
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit
from gateway.control import consumers, districts

DISTRICT_COLUMNS = ["lea_code", "name", "kind", "status", "store", "active_credentials"]


@click.group("district")
def district() -> None:
    """Register districts (LEAs and charter schools), list, suspend and resume them."""


@district.command("add")
@click.option("--lea", required=True, help="LEA code, e.g. 920 (Wake County) or 92F (a charter).")
@click.option("--name", required=True, help="Full name, e.g. 'Wake County Schools'.")
@click.option("--kind", type=click.Choice(["lea", "charter"]), default="lea", show_default=True)
@click.option("--store", default="main", show_default=True, help="Data store holding its records.")
@json_option
@click.pass_context
def district_add(
    ctx: click.Context, lea: str, name: str, kind: str, store: str, as_json: bool
) -> None:
    """Register a district. It can be issued credentials at once."""
    row = on_control(ctx, lambda conn, _s: districts.add(conn, lea, name, kind, cli_actor(), store))
    emit(row, as_json=as_json)


@district.command("list")
@click.option("--search", default="", help="Filter by LEA code or name.")
@json_option
@click.pass_context
def district_list(ctx: click.Context, search: str, as_json: bool) -> None:
    """List districts with their status and number of active credentials."""
    rows = on_control(ctx, lambda conn, _s: districts.list_all(conn, search))
    emit(rows, as_json=as_json, columns=DISTRICT_COLUMNS, title="Districts")


def _status_command(name: str, status: str, help_text: str) -> click.Command:
    @click.command(name, help=help_text)
    @click.argument("lea")
    @json_option
    @click.pass_context
    def command(ctx: click.Context, lea: str, as_json: bool) -> None:
        row = on_control(ctx, lambda conn, _s: districts.set_status(conn, lea, status, cli_actor()))
        emit(row, as_json=as_json)

    return command


district.add_command(
    _status_command(
        "suspend",
        "suspended",
        "Suspend a district: no tokens are issued for it and no transcripts served, at once.",
    )
)
district.add_command(_status_command("resume", "active", "Resume a suspended district."))


@click.group("consumer")
def consumer() -> None:
    """Consumers are the organisations (such as CFNC) that receive credentials."""


@consumer.command("add")
@click.option("--name", required=True, help="e.g. CFNC")
@click.option("--description", default="", help="Who they are, for other operators.")
@json_option
@click.pass_context
def consumer_add(ctx: click.Context, name: str, description: str, as_json: bool) -> None:
    """Register a consumer."""
    row = on_control(ctx, lambda conn, _s: consumers.add(conn, name, cli_actor(), description))
    emit(row, as_json=as_json)


@consumer.command("list")
@json_option
@click.pass_context
def consumer_list(ctx: click.Context, as_json: bool) -> None:
    """List consumers and how many active credentials each holds."""
    rows = on_control(ctx, lambda conn, _s: consumers.list_all(conn))
    emit(
        rows,
        as_json=as_json,
        columns=["name", "status", "active_credentials", "created_at"],
        title="Consumers",
    )


COMMANDS = [district, consumer]
