"""One version, read from one place: the package, the CLI, the OpenAPI document and the
newest release in CHANGELOG.md all say what gateway/__init__.py says."""

from __future__ import annotations

import re
from importlib.metadata import version

from click.testing import CliRunner

from gateway import __version__
from gateway.api.openapi import document
from gateway.cli import cli
from tests.conftest import REPO


def test_one_version_everywhere() -> None:
    assert version("etranscript-gateway") == __version__
    assert document("https://etranscripts.example.gov")["info"]["version"] == __version__
    assert (
        CliRunner().invoke(cli, ["--version"]).output.strip() == f"gateway, version {__version__}"
    )
    changelog = (REPO / "CHANGELOG.md").read_text()
    released = re.findall(r"^## \[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})$", changelog, re.M)
    assert released and released[0][0] == __version__, "CHANGELOG's newest release"
    for name, _ in released:
        assert re.search(rf"^\[{re.escape(name)}\]: ", changelog, re.M), f"link for {name}"


def test_gateway_openapi_prints_the_served_document() -> None:
    import json

    result = CliRunner().invoke(
        cli,
        ["--env-file", "/nonexistent", "openapi", "--base-url", "https://etranscripts.example.gov"],
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed == document("https://etranscripts.example.gov", printed_admin_paths())
    assert printed["info"]["version"] == __version__


def printed_admin_paths() -> dict[str, object]:
    from gateway.admin import api

    return api.openapi_paths()
