"""What `gateway dev` prepares before serving: database, schema, demo data, demo credentials.

Everything here is idempotent: a second `gateway dev` on the same home reuses the database,
the demo districts and the demo credentials (secrets are stored hashed, so the demo file is
the only copy; when it is missing or stale, fresh credentials are issued).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from gateway.audit import Actor
from gateway.cli.context import control_connection, resolved
from gateway.cli.migrate import migrate_all
from gateway.control import consumers, credentials, users
from gateway.errors import NotFound
from gateway.settings import Settings
from gateway.urls import etranscripts_url, token_url
from tenants.synthetic.seed import seed_demo

DEMO_FILE = "demo-credentials.json"
USERS_FILE = "dev-users.json"
DEMO_CONSUMER = "CFNC"
DEMO_LABEL = "demo (gateway dev)"
_ACTOR = Actor("system", "gateway dev")


@dataclass
class DevEnvironment:
    settings: Settings
    pgdata: Path
    demo_file: Path
    users_file: Path | None = None
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


def read_previous(path: Path) -> dict[str, dict[str, Any]]:
    """The previous demo file's entries by district (empty when missing or unreadable)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(entries, list):
        return {}
    return {e["district"]: e for e in entries if isinstance(e, dict) and "district" in e}


def home_folder(settings: Settings) -> Path:
    return Path(settings.home).expanduser().absolute()


async def demo_credential(
    conn: asyncpg.Connection, lea_code: str, previous: dict[str, Any] | None
) -> tuple[str, str]:
    """The district's demo pair: the previous one if it still works, else a new one (the
    stale one revoked, so no forgotten demo secret keeps working)."""
    if previous and previous.get("client_id") and previous.get("client_secret"):
        client_id, secret = str(previous["client_id"]), str(previous["client_secret"])
        if await credentials.secret_matches(conn, client_id, secret):
            return client_id, secret
    for old in await credentials.list_credentials(conn, lea_code, DEMO_CONSUMER):
        if old["label"] == DEMO_LABEL and old["status"] == "active":
            await credentials.revoke(conn, old["client_id"], actor=_ACTOR)
    issued = await credentials.issue(
        conn, lea_code=lea_code, consumer=DEMO_CONSUMER, label=DEMO_LABEL, actor=_ACTOR
    )
    return issued.client_id, issued.client_secret


async def prepare_dev(settings: Settings, *, with_demo: bool = True) -> DevEnvironment:
    settings = await resolved(settings, create=True)
    await migrate_all(settings)
    home = home_folder(settings)
    env = DevEnvironment(settings=settings, pgdata=home / "pgdata", demo_file=home / DEMO_FILE)
    if with_demo:
        previous = read_previous(env.demo_file)
        districts = await seed_demo(settings)
        async with control_connection(settings) as conn:
            await consumers.ensure(conn, DEMO_CONSUMER, _ACTOR)
            for district in districts:
                client_id, secret = await demo_credential(
                    conn, district.lea_code, previous.get(district.lea_code)
                )
                env.demo.append(
                    {
                        "district": district.lea_code,
                        "client_id": client_id,
                        "client_secret": secret,
                        "token_url": token_url(settings.base_url),
                        "etranscripts_url": etranscripts_url(settings.base_url, district.lea_code),
                        "sample_students": district.sample_students,
                    }
                )
        write_private_json(env.demo_file, env.demo)
        async with control_connection(settings) as conn:
            accounts = await dev_accounts(
                conn, districts[0].lea_code, read_users(home / USERS_FILE)
            )
        env.users_file = home / USERS_FILE
        write_private_json(env.users_file, accounts)
        env.extra_lines = [
            ("operator console", f"{settings.base_url}/admin"),
            ("district pages", f"{settings.base_url}/districts/{districts[0].lea_code}/setup"),
            ("web sign-in", f"{env.users_file} (operator and district accounts)"),
        ]
    env.try_commands = try_commands(env)
    return env


def read_users(path: Path) -> dict[str, str]:
    """email -> password from a previous dev-users.json (empty if missing or unreadable)."""
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return {e["email"]: e["password"] for e in entries if isinstance(e, dict)}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


async def dev_accounts(
    conn: asyncpg.Connection, lea_code: str, previous: dict[str, str]
) -> list[dict[str, str]]:
    """An operator and a district registrar to sign in with, on this machine only. A password
    that still works is kept; otherwise a new random one is set."""
    wanted = [
        ("operator@dev.localhost", "operator", None),
        (f"registrar-{lea_code.lower()}@dev.localhost", "district", lea_code),
    ]
    accounts = []
    for email, role, lea in wanted:
        password = previous.get(email, "")
        _user, stored = await users.credentials_for_login(conn, email)
        if not (password and users.check_password(password, stored)):
            password = secrets.token_urlsafe(12)
            try:
                await users.get(conn, email)
                await users.set_password(conn, email, password, _ACTOR)
            except NotFound:
                await users.add(
                    conn, email=email, role=role, lea_code=lea, password=password, actor=_ACTOR
                )
        accounts.append({"email": email, "password": password, "role": role, "district": lea or ""})
    return accounts


def try_commands(env: DevEnvironment) -> list[str]:
    base = env.settings.base_url
    commands = [f"curl -s {base}/readyz"]
    if env.demo:
        first = env.demo[0]
        commands += [
            f"# a token for district {first['district']} (values from {env.demo_file.name}):",
            f"curl -s -u '{first['client_id']}:<client_secret>' -d grant_type=client_credentials {first['token_url']}",
        ]
    return commands
