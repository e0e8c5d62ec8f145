"""Fixtures for the PESC tests: the schema directory, the record factory, a destination.

Tests that need the PESC schemas take the `pesc_dir` fixture. It is GATEWAY_PESC_DIR when
set, else `<repo>/../shared/pesc`, and the tests skip (saying so) only when it is absent.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.pesc import Party
from tests.pesc.factories import RecordFactory

REPO = Path(__file__).resolve().parents[2]


def resolve_pesc_dir() -> Path:
    """GATEWAY_PESC_DIR if set, else the shared folder beside the repository."""
    configured = os.environ.get("GATEWAY_PESC_DIR")
    return Path(configured) if configured else REPO.parent / "shared" / "pesc"


@pytest.fixture(scope="session")
def pesc_dir() -> Path:
    found = resolve_pesc_dir()
    if not (found / "v1.3.0").is_dir() or not (found / "v1.5.0").is_dir():
        pytest.skip(
            f"PESC schemas not found at {found}: set GATEWAY_PESC_DIR to a copy of shared/pesc"
        )
    return found


@pytest.fixture(scope="session")
def samples(pesc_dir: Path) -> Path:
    return pesc_dir / "samples"


@pytest.fixture
def factory() -> RecordFactory:
    return RecordFactory(seed=7)


@pytest.fixture(scope="session")
def cfnc() -> Party:
    return Party(
        "College Foundation of North Carolina", atp="005521", recipient="Admissions & Records"
    )


@pytest.fixture(scope="session")
def now() -> datetime:
    return datetime(2025, 2, 3, 14, 5, 9, tzinfo=UTC)
