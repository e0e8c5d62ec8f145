"""`scripts/dev` runs the gateway of THIS checkout: another `gateway` on PATH does not count."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def fake_gateway_on_path(folder: Path) -> dict[str, str]:
    """A `gateway` of another checkout first on PATH (as a pyenv shim was)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "gateway"
    fake.write_text("#!/bin/sh\necho 'the gateway of another checkout'\n")
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    return env


def test_with_this_checkout_installed_it_runs_it_not_the_one_on_path(tmp_path: Path) -> None:
    env = fake_gateway_on_path(tmp_path)
    env["VIRTUAL_ENV"] = sys.prefix  # the tests' environment has this checkout installed
    done = subprocess.run(
        [REPO / "scripts" / "dev", "--help"], env=env, capture_output=True, text=True, check=True
    )
    assert "another checkout" not in done.stdout
    assert "Usage: gateway dev" in done.stdout
    assert "installing" not in done.stderr  # nothing to install


def test_an_environment_with_another_checkout_is_installed_into_saying_so(tmp_path: Path) -> None:
    other = tmp_path / "other-checkout"
    (other / "gateway").mkdir(parents=True)
    (other / "gateway" / "__init__.py").write_text("")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    purelib = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (purelib / "other.pth").write_text(f"{other}\n")
    env = fake_gateway_on_path(tmp_path)
    env["VIRTUAL_ENV"] = str(venv)

    # This venv has no pip, so the install itself fails: what matters is that the script saw
    # the wrong checkout, said what it installs where, and never ran the other `gateway`.
    done = subprocess.run(
        [REPO / "scripts" / "dev", "--help"], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert "another checkout" not in done.stdout
    assert f"has the gateway of {other}" in done.stderr
    assert f"installing etranscript-gateway from {REPO}" in done.stderr
    assert "the install did not succeed" in done.stderr
