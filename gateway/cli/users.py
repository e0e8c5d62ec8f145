"""`gateway user ...`: web accounts for operators and district staff."""

from __future__ import annotations

import sys
from typing import Any

import click

from gateway.cli.context import on_control
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit
from gateway.control import users
from gateway.settings import Settings


def _read_password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@click.group("user")
def user() -> None:
    """Web accounts: operators (the console) and district staff (read-only district pages)."""


@user.command("add")
@click.option("--email", required=True, help="Sign-in email.")
@click.option("--role", type=click.Choice(users.ROLES), required=True, help="operator or district.")
@click.option("--district", "lea", help="LEA code (district users only).")
@click.option(
    "--invite",
    is_flag=True,
    help="Print a one-time set-password link instead of asking for a password.",
)
@json_option
@click.pass_context
def add(
    ctx: click.Context, email: str, role: str, lea: str | None, invite: bool, as_json: bool
) -> None:
    """Add a user. The password is prompted on a terminal, read from standard input otherwise,
    or, with --invite, set by the user through a one-time link (valid 3 days).

    \b
    Examples:
      gateway user add --email ops@dpi.nc.gov --role operator
      gateway user add --email registrar@wcpss.net --role district --district 920 --invite
    """
    password = None if invite else _read_password()

    async def go(conn: Any, settings: Settings) -> dict[str, Any]:
        created = await users.add(
            conn, email=email, role=role, lea_code=lea, password=password, actor=cli_actor()
        )
        shown = {k: created[k] for k in ("email", "role", "district", "status", "created_at")}
        if invite:
            token = await users.create_invite(conn, email, cli_actor())
            shown["invite_url"] = f"{settings.base_url}/invite/{token}"
        return shown

    result = on_control(ctx, go)
    emit(result, as_json=as_json)
    if invite and not as_json:
        click.echo("\nSend the invite link to the user; it works once.", err=True)


@user.command("invite")
@click.argument("email")
@json_option
@click.pass_context
def invite_again(ctx: click.Context, email: str, as_json: bool) -> None:
    """A new one-time set-password link for an existing user (e.g. a forgotten password)."""

    async def go(conn: Any, settings: Settings) -> dict[str, Any]:
        token = await users.create_invite(conn, email, cli_actor())
        return {"email": email.lower(), "invite_url": f"{settings.base_url}/invite/{token}"}

    emit(on_control(ctx, go), as_json=as_json)


@user.command("list")
@json_option
@click.pass_context
def list_command(ctx: click.Context, as_json: bool) -> None:
    """List users (never password hashes)."""
    rows = on_control(ctx, lambda conn, _s: users.list_users(conn))
    emit(
        rows,
        as_json=as_json,
        columns=["email", "role", "district", "status", "has_password", "last_login_at"],
        title="Users",
    )


@user.command("disable")
@click.argument("email")
@json_option
@click.pass_context
def disable(ctx: click.Context, email: str, as_json: bool) -> None:
    """Disable a user; their sessions end at once."""
    row = on_control(ctx, lambda conn, _s: users.set_status(conn, email, "disabled", cli_actor()))
    emit({k: row[k] for k in ("email", "role", "district", "status")}, as_json=as_json)


COMMANDS = [user]
