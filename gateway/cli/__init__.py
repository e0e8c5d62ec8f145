"""`gateway`: run, operate and inspect the eTranscript gateway.

Settings come from GATEWAY_* environment variables (and `.env`); `--home` overrides
GATEWAY_HOME. Every command that prints data takes `--json`.

Commands load lazily: `gateway --help` lists them from `COMMANDS` below without importing
them, and `gateway credential list` imports the credential commands only, so that the CLI
starts quickly (the server, the PESC builder and argon2 load only where they are used).
`--home` and `--env-file` are accepted before or after any command name (`gateway --home D
dev` and `gateway dev --home D` are the same): `common_options` adds them to every command.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click

from gateway.cli.context import CliState

_EPILOG = """\b
Getting started:
  gateway dev                      embedded Postgres, demo data, server on 127.0.0.1:8000
  gateway dev --home DIR --port N  the same, with its files in DIR, on port N
  gateway migrate --status         what the database has and lacks
\b
Settings (environment or .env): GATEWAY_DATABASE_URL, GATEWAY_MIGRATION_DATABASE_URL,
GATEWAY_STORES, GATEWAY_BASE_URL, GATEWAY_HOME, GATEWAY_MASTER_KEY, GATEWAY_LOG_LEVEL,
GATEWAY_LOG_FORMAT, GATEWAY_ENV; staff sign-in through the state's identity provider:
GATEWAY_OIDC_ISSUER, GATEWAY_OIDC_CLIENT_ID, GATEWAY_OIDC_CLIENT_SECRET, GATEWAY_LOCAL_LOGIN.
See README.md for all of them.
"""

# name -> (module under gateway.cli, the one line `gateway --help` shows). The listing is
# written here so that --help imports nothing; tests/cli/test_cli_start.py checks that every
# entry names a real command and that every command is listed.
COMMANDS: dict[str, tuple[str, str]] = {
    "dev": ("server", "Run everything on this machine: embedded PostgreSQL, demo data, server."),
    "serve": ("server", "Serve in production (uvicorn workers on a configured database)."),
    "migrate": ("migrate", "Apply pending migrations (forward-only; safe to run again)."),
    "seed": ("seed", "Generate synthetic NC districts and bulk-load them."),
    "data": ("data", "Load a district's real records from its SIS exports."),
    "district": ("districts", "Register, list, suspend and reinstate districts."),
    "consumer": ("districts", "Consumers such as CFNC that receive credentials."),
    "credential": ("credentials", "Issue, import, rotate, revoke and list key/secret pairs."),
    "keys": ("credentials", "Token signing keys (ES256), published in the JWKS."),
    "disclosures": ("disclosures", "A district's FERPA disclosure log (34 CFR 99.32)."),
    "user": ("users", "Web accounts for operators and district staff."),
    "vendor": ("vendors", "Outgoing connections to transcript vendors, and their tests."),
    "release": ("release", "Batch releases of transcripts to a vendor."),
    "worker": ("release", "Deliver queued batch items to the vendors until stopped."),
}


def _set_home(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(CliState).home = value


def _set_env_file(ctx: click.Context, _param: click.Parameter, value: Path | None) -> None:
    if value is not None:
        ctx.ensure_object(CliState).env_file = value


def _home_option() -> click.Option:
    return click.Option(
        ["--home"],
        type=click.Path(file_okay=False, path_type=Path),
        expose_value=False,
        is_eager=True,
        callback=_set_home,
        help="Folder of the embedded database and dev files (GATEWAY_HOME, default ./.gateway).",
    )


def _env_file_option() -> click.Option:
    return click.Option(
        ["--env-file"],
        type=click.Path(dir_okay=False, path_type=Path),
        expose_value=False,
        is_eager=True,
        callback=_set_env_file,
        help="Read GATEWAY_* settings from this file too (the environment wins; default .env).",
    )


def common_options(command: click.Command) -> click.Command:
    """Give `command` (and, for a group, each of its commands) --home and --env-file."""
    names = {opt for param in command.params for opt in getattr(param, "opts", ())}
    if "--home" not in names:
        command.params.append(_home_option())
    if "--env-file" not in names:
        command.params.append(_env_file_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            common_options(sub)
    return command


class LazyGroup(click.Group):
    """The root group: commands are imported when named, listed from `COMMANDS`."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands:
            return self.commands[cmd_name]
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return None
        module: Any = importlib.import_module(f"gateway.cli.{entry[0]}")
        command: click.Command
        for command in module.COMMANDS:
            if command.name == cmd_name:
                self.commands[cmd_name] = common_options(command)
                return command
        raise RuntimeError(f"gateway.cli.{entry[0]} has no command {cmd_name}")  # pragma: no cover

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    epilog=_EPILOG,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.version_option(package_name="etranscript-gateway")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """The state-operated eTranscript gateway.

    Districts' key/secret pairs, OAuth2 tokens for consumers such as CFNC, PESC transcripts
    from each district's data store, and the FERPA disclosure log.
    """
    ctx.ensure_object(CliState)


common_options(cli)


def main() -> None:
    cli(prog_name="gateway")
