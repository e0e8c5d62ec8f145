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
