"""Fixtures for the PESC tests: the schema directory, the record factory, a destination.

Tests that need the PESC schemas take the `pesc_dir` fixture (tests/conftest.py).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gateway.pesc import Party
from tests.pesc.factories import RecordFactory


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
