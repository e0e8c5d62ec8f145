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


async def resolve_database(
    settings: Settings, *, create: bool = True
) -> tuple[Settings, EmbeddedServer | None]:
    """Settings with database URLs filled in, and the embedded server if one was started.

    With `create=False` an embedded database must already exist under GATEWAY_HOME: a command
    run from the wrong folder says where it looked instead of creating an empty one there.
    """
    if not settings.embedded:
        return settings, None
    if settings.env == "production":
        raise ConfigurationError("production mode needs GATEWAY_DATABASE_URL")
    if not create:
        require_existing(settings.home)
    server = start_embedded(settings.home)
    urls = (await bootstrap(server.url(), [DATABASE]))[DATABASE]
    return settings.with_database(urls.app_url, urls.owner_url), server


def require_existing(home: Path) -> None:
    """Raise ConfigurationError, saying where it looked and what to do, unless `home` holds an
    embedded database (a cluster made by `gateway dev`, `gateway migrate` or `gateway seed`)."""
    folder = Path(home).expanduser().absolute()
    if (folder / "pgdata" / "PG_VERSION").is_file():
        return
    raise ConfigurationError(
        "no gateway database here: GATEWAY_DATABASE_URL is not set, and there is no embedded "
        f"database under {folder} (looked for {folder / 'pgdata'}; the folder comes from --home "
        "or GATEWAY_HOME, default ./.gateway in the current folder). "
        "Point at the right one with `--home DIR` (the folder `gateway dev` uses, e.g. "
        "`gateway credential list --home ~/etranscript/.gateway`) or set GATEWAY_DATABASE_URL; "
        "`gateway dev` or `gateway migrate` creates a new one."
    )


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
