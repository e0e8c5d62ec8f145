"""Fixtures of the OIDC tests: a real OpenID provider and two gateway workers (world.py)."""

from __future__ import annotations

from tests.oidc.world import oidc_world  # noqa: F401
