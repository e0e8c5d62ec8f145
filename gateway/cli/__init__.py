"""`gateway`: run, operate and inspect the eTranscript gateway.

Settings come from GATEWAY_* environment variables (and `.env`); `--home` overrides
GATEWAY_HOME. Every command that prints data takes `--json`.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from gateway.cli.context import CliState
from gateway.errors import ConfigurationError
from gateway.settings import load_settings

_EPILOG = """\b
Getting started:
  gateway dev                      embedded Postgres, demo data, server on 127.0.0.1:8000
  gateway migrate --status         what the database has and lacks
\b
Settings (environment or .env): GATEWAY_DATABASE_URL, GATEWAY_MIGRATION_DATABASE_URL,
GATEWAY_STORES, GATEWAY_BASE_URL, GATEWAY_HOME, GATEWAY_MASTER_KEY, GATEWAY_LOG_LEVEL,
GATEWAY_LOG_FORMAT, GATEWAY_ENV. See README.md for all of them.
"""


@click.group(epilog=_EPILOG, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder of the embedded database and dev files (GATEWAY_HOME, default ./.gateway).",
)
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(".env"),
    show_default=True,
    help="Read GATEWAY_* settings from this file too (the environment wins).",
)
@click.version_option(package_name="etranscript-gateway")
@click.pass_context
def cli(ctx: click.Context, home: Path | None, env_file: Path) -> None:
    """The state-operated eTranscript gateway.

    Districts' key/secret pairs, OAuth2 tokens for consumers such as CFNC, PESC transcripts
    from each district's data store, and the FERPA disclosure log.
    """
    try:
        settings = load_settings(env_file=env_file)
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from exc
    if home is not None:
        settings = replace(settings, home=home)
    ctx.obj = CliState(settings=settings)


def _register() -> None:
    from gateway.cli import (
        credentials,
        data,
        disclosures,
        districts,
        migrate,
        release,
        seed,
        server,
        users,
        vendors,
    )

    for module in (
        server,
        migrate,
        seed,
        data,
        districts,
        credentials,
        disclosures,
        users,
        vendors,
        release,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    cli(prog_name="gateway")
