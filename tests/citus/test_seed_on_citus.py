"""Seeding onto the cluster: the synthetic loader's suite (tests/tenants/test_seed.py), run
unchanged against a Citus coordinator. COPY goes through the coordinator to the districts'
shards, skipping loaded districts asks the shards with `district_id = ANY(...)`, and the app
role reads every row back through a tenant transaction."""

from __future__ import annotations

import pytest

from tests.tenants.test_seed import *  # noqa: F403 - the same suite, on the cluster

pytestmark = pytest.mark.citus
