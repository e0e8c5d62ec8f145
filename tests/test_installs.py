"""The hashed locks match pyproject.toml: what CI, scripts/install and the image install is
what the project declares, the image gets no dev package, and the lowest lock really sits on
every declared floor (CI runs the suite on it: scripts/test-lowest)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
RUNTIME = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
EXTRAS = PYPROJECT["project"]["optional-dependencies"]
# The dev extra names the otel extra by the project's own name; its packages count as dev's.
DEV = [
    Requirement(r)
    for r in EXTRAS["dev"] + EXTRAS["otel"]
    if Requirement(r).name != PYPROJECT["project"]["name"]
]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.M)


def pins(name: str) -> dict[str, Version]:
    text = (REPO / "requirements" / name).read_text()
    blocks = [b for b in re.split(r"\n(?=[A-Za-z0-9])", text) if _PIN.match(b)]
    for block in blocks:
        assert "--hash=sha256:" in block, f"{name}: {block.splitlines()[0]} has no hash"
    return {canonicalize_name(m[1]): Version(m[2]) for m in _PIN.finditer(text)}


def floor(requirement: Requirement) -> Version:
    (lowest,) = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
    return lowest


@pytest.mark.parametrize("lock", ["runtime.lock", "dev.lock", "lowest.lock"])
def test_every_direct_dependency_is_pinned_within_its_range(lock: str) -> None:
    pinned = pins(lock)
    for requirement in RUNTIME + ([] if lock == "runtime.lock" else DEV):
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{lock} lacks {name}: run scripts/lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"{lock} pins {name}=={pinned[name]}, outside {requirement.specifier}"
        )


def test_the_lowest_lock_sits_on_every_floor() -> None:
    pinned = pins("lowest.lock")
    for requirement in RUNTIME + DEV:
        if not any(s.operator == ">=" for s in requirement.specifier):
            continue  # no floor declared (type stubs)
        name = canonicalize_name(requirement.name)
        assert pinned[name] == floor(requirement), f"{name}: run scripts/lock"


def test_the_image_lock_has_no_dev_package() -> None:
    runtime = set(pins("runtime.lock"))
    # (Some dev packages, pyyaml for one, come into the image as a runtime package's need.)
    dev_only = {"pgserver", "psutil", "pytest", "pytest-asyncio", "hypothesis", "schemathesis"}
    dev_only |= {"mypy", "ruff", "playwright", "testcontainers", "uv", "opentelemetry-sdk"}
    assert dev_only <= {canonicalize_name(r.name) for r in DEV}
    assert not dev_only & runtime, dev_only & runtime


def test_installs_use_the_locks_with_hashes() -> None:
    install = (REPO / "scripts" / "install").read_text()
    assert "--require-hashes" in install and "requirements/dev.lock" in install
    dockerfile = (REPO / "Dockerfile").read_text()
    assert "--require-hashes -r requirements/runtime.lock" in dockerfile
    assert "scripts/test-lowest" in (REPO / ".ci" / "run").read_text()
