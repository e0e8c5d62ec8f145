"""Turn Settings into concrete database URLs: the configured server, or the embedded one.

With GATEWAY_DATABASE_URL set, that is the application role's URL and
GATEWAY_MIGRATION_DATABASE_URL (or, failing that, the same URL) the owner's. Without it, the
embedded server under GATEWAY_HOME is started (or joined, when `gateway dev` already runs it)
and its roles and database are ensured.
"""

from __future__ import annotations

import base64
import os
import secrets
from dataclasses import replace
from pathlib import Path

from gateway.database.bootstrap import bootstrap
from gateway.database.embedded import EmbeddedServer, start_embedded
from gateway.errors import ConfigurationError
from gateway.settings import MasterKey, Settings, parse_master_keys

DATABASE = "gateway"


async def resolve_database(settings: Settings) -> tuple[Settings, EmbeddedServer | None]:
    """Settings with database URLs filled in, and the embedded server if one was started."""
    if not settings.embedded:
        return settings, None
    if settings.env == "production":
        raise ConfigurationError("production mode needs GATEWAY_DATABASE_URL")
    server = start_embedded(settings.home)
    urls = (await bootstrap(server.url(), [DATABASE]))[DATABASE]
    return settings.with_database(urls.app_url, urls.owner_url), server


def ensure_dev_master_key(settings: Settings) -> Settings:
    """Outside production, a missing master key is generated once and kept in GATEWAY_HOME
    (mode 0600) so that encrypted values survive restarts of `gateway dev`."""
    if settings.master_keys:
        return settings
    if settings.env == "production":
        raise ConfigurationError("GATEWAY_MASTER_KEY is required in production")
    path = Path(settings.home).expanduser() / "master.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(f"dev1:{key}\n")
    keys: tuple[MasterKey, ...] = parse_master_keys(path.read_text().strip())
    return replace(settings, master_keys=keys)
