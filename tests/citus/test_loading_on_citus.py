"""Loading districts' records onto the cluster: the loader's suites (tests/loading), run
unchanged against a Citus coordinator. Each load is one tenant transaction as the ingest role,
whose rows reach the district's shard through its row-level security."""

from __future__ import annotations

import pytest

from tests.loading.test_atomicity import *  # noqa: F403 - the same suites, on the cluster
from tests.loading.test_csv_load import *  # noqa: F403
from tests.loading.test_pesc_load import *  # noqa: F403

pytestmark = pytest.mark.citus
