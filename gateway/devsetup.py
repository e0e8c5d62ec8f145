"""What `gateway dev` prepares before serving: database, schema, demo data, demo credentials.

Everything here is idempotent: a second `gateway dev` on the same home reuses the database and
the demo districts, and writes a demo file whose values work.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tenants.seed import seed_demo

from gateway.cli.context import resolved
from gateway.cli.migrate import migrate_all
from gateway.settings import Settings

DEMO_FILE = "demo-credentials.json"


@dataclass
class DevEnvironment:
    settings: Settings
    pgdata: Path
    demo_file: Path
    demo: list[dict[str, Any]] = field(default_factory=list)
    extra_lines: list[tuple[str, str]] = field(default_factory=list)
    try_commands: list[str] = field(default_factory=list)


def write_private_json(path: Path, data: Any) -> None:
    """Write `data` readable by this user only: the demo file holds live secrets."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, ensure_ascii=False)
        handle.write("\n")
    tmp.replace(path)


def home_folder(settings: Settings) -> Path:
    return Path(settings.home).expanduser().absolute()


async def prepare_dev(settings: Settings, *, with_demo: bool = True) -> DevEnvironment:
    settings = await resolved(settings)
    await migrate_all(settings)
    home = home_folder(settings)
    env = DevEnvironment(settings=settings, pgdata=home / "pgdata", demo_file=home / DEMO_FILE)
    entries: list[dict[str, Any]] = []
    if with_demo:
        for district in await seed_demo(settings):
            entries.append(
                {
                    "district": district.lea_code,
                    "sample_students": district.sample_students,
                }
            )
    env.demo = entries
    write_private_json(env.demo_file, entries)
    env.try_commands = [f"cat {env.demo_file}", f"curl -s {settings.base_url}/readyz"]
    return env
