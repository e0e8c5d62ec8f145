"""`gateway credential ...` and `gateway keys ...`: the key/secret lifecycle."""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

import click

from gateway.cli.context import on_control
from gateway.cli.options import Duration, ExpiryDate, cli_actor, json_option
from gateway.cli.output import emit
from gateway.control import credentials as repo
from gateway.control.credentials import IssuedSecret
from gateway.oauth import keys as signing
from gateway.settings import Settings
from gateway.urls import etranscripts_url, token_url

LIST_COLUMNS = [
    "client_id",
    "district",
    "consumer",
    "label",
    "status",
    "weak_secret",
    "created_at",
    "last_used_at",
    "expires_at",
    "overlap_ends",
]


def share(issued: IssuedSecret, settings: Settings) -> dict[str, Any]:
    """The Information to Share with the consumer; the secret is shown this once."""
    info: dict[str, Any] = {
        "client_id": issued.client_id,
        "client_secret": issued.client_secret,
        "token_url": token_url(settings.base_url),
    }
    if issued.district:
        info["etranscripts_url"] = etranscripts_url(settings.base_url, issued.district)
        info["district"] = issued.district
        info["consumer"] = issued.consumer
    info["expires_at"] = issued.expires_at
    return info


def _print_share(info: dict[str, Any], as_json: bool) -> None:
    emit(info, as_json=as_json)
    if not as_json:
        click.echo(
            "\nThe client secret is shown this once; it cannot be recovered later.", err=True
        )


@click.group("credential")
def credential() -> None:
    """Issue, import, rotate, revoke and list key/secret pairs (client credentials).

    \b
    A consumer credential belongs to one district: its tokens read that district only.
    Secrets are shown once and stored only as hashes.
    """


@credential.command("issue")
@click.option("--district", "lea", required=True, help="LEA code of the district it reads.")
@click.option("--consumer", required=True, help="Consumer name, e.g. CFNC.")
@click.option("--name", "label", required=True, help="A label operators recognise.")
@click.option("--expires", type=ExpiryDate(), help="Last valid day (YYYY-MM-DD) or date-time.")
@json_option
@click.pass_context
def issue(
    ctx: click.Context, lea: str, consumer: str, label: str, expires: datetime | None, as_json: bool
) -> None:
    """Issue a new pair and print client_id, client_secret, token_url and etranscripts_url."""

    async def go(conn: Any, settings: Settings) -> dict[str, Any]:
        issued = await repo.issue(
            conn,
            lea_code=lea,
            consumer=consumer,
            label=label,
            actor=cli_actor(),
            expires_at=expires,
        )
        return share(issued, settings)

    _print_share(on_control(ctx, go), as_json)


@credential.command("issue-operator")
@click.option("--name", "label", required=True, help="Who or what uses it, e.g. 'SIS sync job'.")
@click.option("--expires", type=ExpiryDate(), help="Last valid day (YYYY-MM-DD) or date-time.")
@json_option
@click.pass_context
def issue_operator(ctx: click.Context, label: str, expires: datetime | None, as_json: bool) -> None:
    """Issue an operator credential (scope `admin`) for the admin JSON API."""

    async def go(conn: Any, settings: Settings) -> dict[str, Any]:
        issued = await repo.issue_operator(conn, label=label, actor=cli_actor(), expires_at=expires)
        return share(issued, settings)

    _print_share(on_control(ctx, go), as_json)


@credential.command("import")
@click.option("--district", "lea", required=True, help="LEA code of the district it reads.")
@click.option("--consumer", required=True, help="Consumer name, e.g. CFNC.")
@click.option("--client-id", required=True, help="The client id already given out.")
@click.option("--name", "label", default="imported", show_default=True, help="A label.")
@click.option("--expires", type=ExpiryDate(), help="Last valid day (YYYY-MM-DD) or date-time.")
@json_option
@click.pass_context
def import_command(
    ctx: click.Context,
    lea: str,
    consumer: str,
    client_id: str,
    label: str,
    expires: datetime | None,
    as_json: bool,
) -> None:
    """Keep a pair the department already gave out; the secret is read from standard input.

    \b
    Its strength is unknown, so it is stored with a slow hash (argon2id) and flagged weak
    when short. Example:  printf '%s' "$SECRET" | gateway credential import ...
    """
    if sys.stdin.isatty():
        secret = click.prompt("Client secret", hide_input=True)
    else:
        secret = sys.stdin.readline().rstrip("\r\n")

    async def keep(conn: Any, _settings: Settings) -> dict[str, Any]:
        # The command's own connection, not a pooled one: no one waits for it meanwhile.
        imported = await repo.hash_import(client_id=client_id, secret=secret, expires_at=expires)
        return await repo.import_existing(
            conn, imported, lea_code=lea, consumer=consumer, label=label, actor=cli_actor()
        )

    result = on_control(ctx, keep)
    emit(result, as_json=as_json)
    if result["weak_secret"] and not as_json:
        click.echo("Warning: this secret is weak (short or repetitive); rotate it soon.", err=True)


@credential.command("rotate")
@click.argument("client_id")
@click.option(
    "--overlap",
    type=Duration(),
    default="24h",
    show_default=True,
    help="How long the old secret keeps working (0 ends it now; at most 30d).",
)
@json_option
@click.pass_context
def rotate(ctx: click.Context, client_id: str, overlap: timedelta, as_json: bool) -> None:
    """Give a credential a new secret; the old one works until the overlap ends."""

    async def go(conn: Any, settings: Settings) -> dict[str, Any]:
        issued = await repo.rotate(conn, client_id, overlap=overlap, actor=cli_actor())
        return {
            **share(issued, settings),
            "old_secret_valid_for_seconds": int(overlap.total_seconds()),
        }

    _print_share(on_control(ctx, go), as_json)


@credential.command("revoke")
@click.argument("client_id")
@json_option
@click.pass_context
def revoke(ctx: click.Context, client_id: str, as_json: bool) -> None:
    """Revoke a credential: no new tokens, and issued tokens stop working at once."""
    emit(
        on_control(ctx, lambda conn, _s: repo.revoke(conn, client_id, actor=cli_actor())),
        as_json=as_json,
    )


@credential.command("list")
@click.option("--district", "lea", help="Only this district's credentials.")
@click.option("--consumer", help="Only this consumer's credentials.")
@json_option
@click.pass_context
def list_command(ctx: click.Context, lea: str | None, consumer: str | None, as_json: bool) -> None:
    """List credentials (never secrets): created, last used, expiry, status."""
    rows = on_control(ctx, lambda conn, _s: repo.list_credentials(conn, lea, consumer))
    emit(rows, as_json=as_json, columns=LIST_COLUMNS, title="Credentials")


@click.group("keys")
def keys() -> None:
    """Token signing keys (ES256), published at /.well-known/jwks.json."""


@keys.command("rotate")
@click.option(
    "--activate-now",
    is_flag=True,
    help="Sign with the new key at once. Resource servers that cached the JWKS refuse the new"
    " tokens until their cache expires: use it only when the current key is compromised.",
)
@json_option
@click.pass_context
def keys_rotate(ctx: click.Context, activate_now: bool, as_json: bool) -> None:
    """Publish a new signing key now and sign with it from `activates_at`.

    Resource servers cache /.well-known/jwks.json for up to its max-age (5 minutes), so the new
    key signs only after that (plus 30 s), and every worker switches at that instant. The old
    key signs until then and stays published until its last token has expired.

    \b
    Example:
      gateway keys rotate --json
    """

    async def go(conn: Any, settings: Settings) -> dict[str, Any]:
        ttl = timedelta(seconds=settings.token_ttl_seconds)
        return await signing.rotate(
            conn, settings.master_keys, ttl, cli_actor(), activate_now=activate_now
        )

    emit(on_control(ctx, go), as_json=as_json)


@keys.command("list")
@json_option
@click.pass_context
def keys_list(ctx: click.Context, as_json: bool) -> None:
    """List signing keys: which one signs, which are still published."""
    rows = on_control(ctx, lambda conn, _s: signing.list_keys(conn))
    emit(
        rows,
        as_json=as_json,
        columns=["kid", "alg", "created_at", "activates_at", "retired_at", "publish_until"],
        title="Signing keys",
    )


@keys.command("reseal")
@json_option
@click.pass_context
def keys_reseal(ctx: click.Context, as_json: bool) -> None:
    """Re-seal every secret under the first GATEWAY_MASTER_KEY, so older keys can retire.

    \b
    To retire master key OLD for NEW:
      1. GATEWAY_MASTER_KEY=NEW,OLD (new key first) on every process; restart them.
      2. gateway keys reseal        (online: the gateway keeps serving; run it again if
                                     it stops half-way, it does only what is left)
      3. when it lists OLD under "retirable", set GATEWAY_MASTER_KEY=NEW and restart.
    Audited as keys.reseal. Backups taken before step 2 still need OLD: keep it with them.
    """
    from gateway.cli import custody

    result = on_control(
        ctx, lambda conn, settings: custody.reseal(conn, settings.master_keys, cli_actor())
    )
    emit(result, as_json=as_json)


@keys.command("master-key")
@click.option("--kid", default="k1", show_default=True, help="Key id to prefix.")
def master_key(kid: str) -> None:
    """Print a new random master key for GATEWAY_MASTER_KEY (kid:base64)."""
    import base64
    import secrets

    click.echo(f"{kid}:{base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()}")


COMMANDS = [credential, keys]
