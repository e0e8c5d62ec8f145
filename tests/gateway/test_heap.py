"""A served worker freezes what start-up built, so full collections skip it; a test app does
not (frozen objects are never freed, and the suite builds many apps)."""

from __future__ import annotations

import gc
from pathlib import Path

from gateway.app import create_app
from tests.conftest import PgDatabase


async def test_only_a_served_worker_freezes_its_start_up_heap(
    database: PgDatabase, tmp_path: Path
) -> None:
    gc.unfreeze()
    plain = create_app(database.settings(tmp_path / "plain"))
    async with plain.router.lifespan_context(plain):
        assert gc.get_freeze_count() == 0
    frozen = create_app(database.settings(tmp_path / "frozen"), freeze_heap=True)
    try:
        async with frozen.router.lifespan_context(frozen):
            # The caches the lifespan loaded are among the frozen objects.
            assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
