"""Entry point for uvicorn worker processes (`gateway serve --workers N`).

Each worker reads the settings from its environment once, here, and builds its own app; pools
and caches open in the app's lifespan, after the fork.
"""

from __future__ import annotations

from starlette.applications import Starlette

from gateway.app import create_app
from gateway.database.resolve import ensure_dev_master_key
from gateway.logging import configure_logging
from gateway.settings import load_settings


def app_factory() -> Starlette:
    settings = ensure_dev_master_key(load_settings())
    configure_logging(settings)
    return create_app(settings, multiproc_dir=settings.metrics_multiproc_dir, freeze_heap=True)
