from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from click.testing import CliRunner, Result

from gateway.cli import cli
from tests.conftest import SESSION_MASTER_KEYS, PgDatabase
from tests.secrets_seen import remember

Invoke = Callable[..., Awaitable[Result]]


def cli_env(database: PgDatabase) -> dict[str, str]:
    key = SESSION_MASTER_KEYS[0]
    return {
        "GATEWAY_DATABASE_URL": database.app_url,
        "GATEWAY_MIGRATION_DATABASE_URL": database.owner_url,
        "GATEWAY_MASTER_KEY": f"{key.kid}:{base64.urlsafe_b64encode(key.key).decode()}",
        "GATEWAY_ENV": "test",
    }


@pytest.fixture
def gateway_cli(database: PgDatabase) -> Invoke:
    """Run `gateway ARGS...` in-process (in a thread: the CLI runs its own event loop)."""
    env = cli_env(database)

    async def invoke(*args: str, input: str | None = None, ok: bool = True) -> Result:
        runner = CliRunner()
        result = await asyncio.to_thread(
            runner.invoke,
            cli,
            ["--env-file", "/nonexistent", *args],
            input=input,
            env=env,
            catch_exceptions=False,
        )
        if ok:
            assert result.exit_code == 0, result.output + (
                result.stderr if result.stderr_bytes else ""
            )
        return result

    return invoke


def as_json(result: Result) -> Any:
    data = json.loads(result.stdout)
    if isinstance(data, dict):
        remember(data.get("client_secret"))
    return data
