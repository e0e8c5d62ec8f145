"""How the CLI starts: quickly (nothing heavy imported for --help), with --home/--env-file
on every command before or after its name, and never creating a database by accident."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from gateway.cli import COMMANDS, cli

REPO = Path(__file__).resolve().parents[2]


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}


def all_commands() -> list[tuple[str, ...]]:
    """Every command path: ("credential",), ("credential", "issue"), ..."""
    found: list[tuple[str, ...]] = []

    def walk(path: tuple[str, ...], command: click.Command) -> None:
        found.append(path)
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk((*path, name), sub)

    ctx = click.Context(cli)
    for name in cli.list_commands(ctx):
        command = cli.get_command(ctx, name)
        assert command is not None, name
        walk((name,), command)
    return found


def test_the_listing_names_every_command_of_every_module() -> None:
    listed = {name: module for name, (module, _help) in COMMANDS.items()}
    for module_name in set(listed.values()):
        module = importlib.import_module(f"gateway.cli.{module_name}")
        for command in module.COMMANDS:
            assert listed.get(command.name) == module_name, command.name
    ctx = click.Context(cli)
    for name in COMMANDS:
        assert cli.get_command(ctx, name) is not None


def test_help_imports_neither_the_server_nor_the_database_driver() -> None:
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from gateway.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        "heavy = ['uvicorn', 'asyncpg', 'argon2', 'lxml', 'gateway.app', 'joserfc', 'httpx',\n"
        "         'structlog', 'rich', 'tenants.synthetic.seed', 'gateway.control.users']\n"
        "print(' '.join(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], env=clean_env(), capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("where", ["before", "after"])
def test_every_command_takes_home_and_env_file_before_or_after_its_name(where: str) -> None:
    for path in all_commands():
        options = ["--home", "/tmp/i11-nowhere", "--env-file", "/nonexistent"]
        args = [*options, *path, "--help"] if where == "before" else [*path, *options, "--help"]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (path, result.output)
        assert "--home" in result.output, path


def test_home_after_the_command_is_the_home_used(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli,
        ["credential", "list", "--home", str(tmp_path / "given"), "--env-file", "/nonexistent"],
        env=clean_env(),
    )
    assert result.exit_code == 1
    assert str(tmp_path / "given" / "pgdata") in result.stderr


def test_env_file_after_the_command_is_read(tmp_path: Path) -> None:
    env_file = tmp_path / "settings.env"
    env_file.write_text(f"GATEWAY_HOME={tmp_path / 'from-env-file'}\n")
    result = CliRunner().invoke(
        cli, ["district", "list", "--env-file", str(env_file)], env=clean_env()
    )
    assert result.exit_code == 1
    assert str(tmp_path / "from-env-file") in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["credential", "list"],
        ["district", "list", "--json"],
        ["vendor", "list"],
        ["disclosures", "--district", "920"],
        ["release", "status", "1"],
    ],
    ids=lambda a: " ".join(a),
)
def test_a_command_in_an_empty_folder_creates_nothing_and_says_where_it_looked(
    tmp_path: Path, args: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "gateway", *args],
        env=clean_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert list(tmp_path.iterdir()) == []  # no .gateway, no pgdata, no master.key
    assert f"{tmp_path}/.gateway/pgdata" in done.stderr.replace("\n", " ").replace("  ", " ")
    assert "--home" in done.stderr and "GATEWAY_DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr


def test_dev_port_0_binds_a_free_port_and_names_it_in_its_urls() -> None:
    from gateway.cli.server import bind
    from gateway.database.served import base_url_for

    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert port != 0
        assert base_url_for("127.0.0.1", port) == f"http://127.0.0.1:{port}"
        assert base_url_for("0.0.0.0", port) == f"http://127.0.0.1:{port}"  # noqa: S104
        with pytest.raises(click.ClickException, match="choose another port"):
            bind("127.0.0.1", port)  # in use: said plainly
    finally:
        sock.close()


def test_the_recorded_address_is_read_back_only_without_a_base_url(tmp_path: Path) -> None:
    from gateway.cli.context import served_settings
    from gateway.database.served import record_base_url
    from gateway.settings import load_settings

    record_base_url(tmp_path, "http://127.0.0.1:18431")
    env = {"GATEWAY_HOME": str(tmp_path)}
    assert served_settings(load_settings(env, None)).base_url == "http://127.0.0.1:18431"
    production_like = {**env, "GATEWAY_BASE_URL": "https://gateway.dpi.example.gov"}
    assert (
        served_settings(load_settings(production_like, None)).base_url
        == "https://gateway.dpi.example.gov"
    )
