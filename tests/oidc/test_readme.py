"""The README's OIDC example: its settings load, and its mapping table is what the code does."""

from __future__ import annotations

import json
import re
import shlex

from gateway.oidc.roles import Refusal, Role, role_for
from gateway.settings import load_settings
from tests.conftest import REPO

README = (REPO / "README.md").read_text()


def _after(marker: str) -> str:
    start = README.index(f"<!-- oidc-example:{marker}")
    return README[start:]


def example_environment() -> dict[str, str]:
    block = re.search(r"```sh\n(.*?)```", _after("env"), re.S)
    assert block
    pairs = (line.split("=", 1) for line in block.group(1).splitlines() if "=" in line)
    return {name: " ".join(shlex.split(value)) for name, value in pairs}


def test_the_example_settings_load() -> None:
    settings = load_settings(example_environment(), env_file=None)
    oidc = settings.oidc
    assert oidc is not None
    assert oidc.provider_name == "NCID"
    assert settings.oidc_redirect_uri == "https://etranscripts.dpi.example.gov/login/oidc/callback"
    assert settings.local_login
    # The registration table names the same paths the routes answer on.
    for path in ("/login/oidc/callback", "/login/oidc/backchannel-logout"):
        assert f"`{{GATEWAY_BASE_URL}}{path}`" in README


def test_the_example_mapping_is_what_the_code_does() -> None:
    oidc = load_settings(example_environment(), env_file=None).oidc
    assert oidc is not None
    table = _after("mapping").split("\n\n")[0]
    rows = [line for line in table.splitlines() if line.startswith("| `[")]
    assert len(rows) == 4
    for row in rows:
        groups_cell, who = (cell.strip() for cell in row.strip("|").split("|"))
        decision = role_for({"groups": json.loads(groups_cell.strip("`"))}, oidc)
        if who.startswith("an operator"):
            assert decision == Role("operator", None)
        elif who.startswith("district 920"):
            assert decision == Role("district", "920")
        else:
            assert isinstance(decision, Refusal), row
