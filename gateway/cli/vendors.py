"""`gateway vendor ...`: outgoing connections to transcript vendors, and their test."""

from __future__ import annotations

import sys
from typing import Any
from uuid import UUID

import asyncpg
import click

from gateway.cli.context import on_control, resolved, run, state
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit
from gateway.control import vendors as repo
from gateway.outgoing.client import Timeouts
from gateway.outgoing.probe import ProbeResult, check_connection
from gateway.settings import Settings

# The table for people; --json has every field.
LIST_COLUMNS = [
    "connection_id",
    "lea_code",
    "name",
    "status",
    "upload_url",
    "last_test_at",
    "last_test_ok",
    "batches",
]
SHOWN = [
    "connection_id",
    "lea_code",
    "name",
    "auth_url",
    "upload_url",
    "consumer_key",
    "consumer_secret",
    "username",
    "password",
    "grant_type",
    "last_test_at",
    "last_test_ok",
    "last_test_message",
    "created_at",
    "status",
    "retired_at",
    "batches",
    "batch_refusal",
]


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A connection as printed: the masked secrets, no ciphertext, no internal ids."""
    return {k: row.get(k) for k in SHOWN}


def _read_secrets() -> tuple[str, str]:
    """Consumer secret and password: prompted without echo on a terminal, else the first two
    lines of standard input (so they never appear in the shell history or `ps`)."""
    if sys.stdin.isatty():
        secret = str(click.prompt("Consumer secret", hide_input=True))
        password = str(click.prompt("Password", hide_input=True))
        return secret, password
    secret = sys.stdin.readline().rstrip("\r\n")
    password = sys.stdin.readline().rstrip("\r\n")
    return secret, password


@click.group("vendor")
def vendor() -> None:
    """Outgoing connections: where a district's transcripts go (Parchment, the Clearinghouse).

    \b
    Each connection has an OAuth token endpoint (auth server + path), an upload endpoint
    (server, port, path), a consumer key and secret, a user name and a password. The secret
    and the password are encrypted under the master key and never printed.
    """


@vendor.command("add")
@click.option("--district", "lea", required=True, help="LEA code of the district.")
@click.option("--name", required=True, help="A name operators recognise, e.g. Parchment.")
@click.option("--auth-server", required=True, help=f"e.g. {repo.EXAMPLES['auth_server']}")
@click.option("--auth-path", required=True, help=f"e.g. {repo.EXAMPLES['auth_path']}")
@click.option("--upload-server", required=True, help=f"e.g. {repo.EXAMPLES['upload_server']}")
@click.option(
    "--upload-port",
    help="1 to 65535 (default: 443 for https, 80 for http, or the port in --upload-server).",
)
@click.option(
    "--upload-path",
    required=True,
    help=f"As the vendor gives it, with or without the leading /, e.g. {repo.EXAMPLES['upload_path']}",
)
@click.option("--consumer-key", required=True, help="The consumer (client) key.")
@click.option("--username", required=True, help="The vendor account's user name.")
@click.option(
    "--grant-type",
    type=click.Choice(repo.GRANT_TYPES),
    default="password",
    show_default=True,
    help="password: key/secret + user name/password; client_credentials: key/secret only.",
)
@click.option(
    "--allow-http",
    is_flag=True,
    hidden=True,  # kept for old scripts: http is accepted outside production without it
    help="Accepted for compatibility; http:// is accepted outside production.",
)
@json_option
@click.pass_context
def add(
    ctx: click.Context,
    lea: str,
    name: str,
    auth_server: str,
    auth_path: str,
    upload_server: str,
    upload_port: str | None,
    upload_path: str,
    consumer_key: str,
    username: str,
    grant_type: str,
    allow_http: bool,
    as_json: bool,
) -> None:
    """Add a connection. The consumer secret and the password are read from standard input,
    one per line, or prompted (hidden) on a terminal.

    \b
    Example:
      printf '%s\\n%s\\n' "$SECRET" "$PASSWORD" | gateway vendor add --district 920 \\
        --name Parchment --auth-server https://auth.parchment.example --auth-path /oauth/token \\
        --upload-server https://api.parchment.example --upload-port 443 \\
        --upload-path /v1/transcripts --consumer-key wake-county --username wcpss-registrar
    """
    secret, password = _read_secrets()
    data = repo.ConnectionInput(
        name=name,
        auth_server=auth_server,
        auth_path=auth_path,
        upload_server=upload_server,
        upload_port=upload_port or "",
        upload_path=upload_path,
        consumer_key=consumer_key,
        consumer_secret=secret,
        username=username,
        password=password,
        grant_type=grant_type,
    )
    del secret, password

    async def go(conn: asyncpg.Connection, settings: Settings) -> dict[str, Any]:
        if allow_http and settings.env == "production":
            raise click.UsageError("--allow-http is refused with GATEWAY_ENV=production")
        # The same rule as the console and the admin API: plain http outside production only.
        insecure = settings.env != "production"
        return await repo.add(
            conn, settings.master_keys, lea, data, cli_actor(), allow_insecure=insecure
        )

    created = _shown(on_control(ctx, go))
    emit(created, as_json=as_json)
    if not as_json:
        click.echo(f"\nTest it: gateway vendor test {created['connection_id']}", err=True)


@vendor.command("list")
@click.option("--district", "lea", help="Only this district's connections.")
@json_option
@click.pass_context
def list_command(ctx: click.Context, lea: str | None, as_json: bool) -> None:
    """List connections (secrets masked) with the result of their last test."""
    rows = on_control(ctx, lambda conn, _s: repo.list_connections(conn, lea))
    shown = [_shown(r) for r in rows]
    emit(shown, as_json=as_json, columns=LIST_COLUMNS, title="Outgoing connections")


@vendor.command("remove")
@click.argument("connection_id", type=click.UUID)
@json_option
@click.pass_context
def remove(ctx: click.Context, connection_id: UUID, as_json: bool) -> None:
    """Delete a connection that no batch used (one that batches used: `vendor retire`)."""
    removed = on_control(ctx, lambda conn, _s: repo.remove(conn, connection_id, cli_actor()))
    emit(_shown(removed), as_json=as_json)


@vendor.command("retire")
@click.argument("connection_id", type=click.UUID)
@json_option
@click.pass_context
def retire(ctx: click.Context, connection_id: UUID, as_json: bool) -> None:
    """Retire a connection: kept with its batches and reports, used by no new batch.

    \b
    Example:
      gateway vendor retire 0b8f3c52-59a1-4c55-9f0e-7c1f2d9a4e10
    """
    row = on_control(ctx, lambda conn, _s: repo.retire(conn, connection_id, cli_actor()))
    emit(_shown(row), as_json=as_json)


@vendor.command("reinstate")
@click.argument("connection_id", type=click.UUID)
@json_option
@click.pass_context
def reinstate(ctx: click.Context, connection_id: UUID, as_json: bool) -> None:
    """Bring a retired connection back (test it again before a batch uses it)."""
    row = on_control(ctx, lambda conn, _s: repo.reinstate(conn, connection_id, cli_actor()))
    emit(_shown(row), as_json=as_json)
    if not as_json:
        click.echo(f"\nTest it: gateway vendor test {connection_id}", err=True)


def _print_result(result: ProbeResult, as_json: bool) -> None:
    if as_json:
        emit(result.as_dict(), as_json=True)
        return
    click.echo(result.headline)
    if result.ok:
        click.echo(f"  {result.message} ({result.elapsed_ms} ms)")
    else:
        click.echo(f"  reason: {result.reason}")
        click.echo(f"  {result.message} ({result.elapsed_ms} ms)")


@vendor.command("test")
@click.argument("connection_id", type=click.UUID)
@click.option(
    "--timeout",
    type=click.FloatRange(0.1, 60),
    default=5.0,
    show_default=True,
    help="Seconds to connect, and to wait for each answer.",
)
@json_option
@click.pass_context
def test(ctx: click.Context, connection_id: UUID, timeout: float, as_json: bool) -> None:
    """Test a connection: get a token, then check that the upload endpoint answers it.

    \b
    Valid only when the auth server grants a token and the upload endpoint shows that the
    Upload Path exists, takes POST and accepts that token (docs/connection-test.md). Prints
    "Your connection is valid" or "Connection failed" with the reason (DNS, TLS, refused,
    timeout, 401 from the auth server, 404 or 405 from the upload server, unexpected
    response), stores the result on the connection (a batch release needs a valid one) and
    audits the test. Exits 1 on failure.
    """

    async def go() -> ProbeResult:
        settings = await resolved(state(ctx).settings)
        pool = await asyncpg.create_pool(str(settings.database_url), min_size=0, max_size=1)
        try:
            return await check_connection(
                pool,
                settings.master_keys,
                connection_id,
                cli_actor(),
                timeouts=Timeouts(connect=timeout, read=timeout),
            )
        finally:
            await pool.close()

    result = run(go())
    _print_result(result, as_json)
    if not result.ok:
        ctx.exit(1)


COMMANDS = [vendor]
