"""schemathesis against a real `gateway serve` on loopback, over every documented operation:
the consumer API with a consumer token, OAuth, and the admin API with an operator token (its
stateful phase follows the document's links), self-revocation excluded since it would end
the run's own authority. Zero server errors and zero responses that contradict the
document."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest

from gateway.control import credentials
from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import PgDatabase
from tests.deploy.servers import running
from tests.factories import CONSUMER_ACTOR, add_student
from tests.oauth.conftest import Pair
from tests.secrets_seen import remember

CHECKS = "not_a_server_error,response_schema_conformance"
EXAMPLES = "15"  # per operation and phase: bounded, so the suite stays within its budget


@pytest.fixture(scope="module")
def live(database: PgDatabase, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("schemathesis")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        **cli_env(database),
        # schemathesis sends thousands of requests from one address and one client.
        "GATEWAY_TOKEN_RATE_PER_SECOND": "100000",
        "GATEWAY_TOKEN_RATE_BURST": "100000",
        "GATEWAY_LOCKOUT_ADDRESS_THRESHOLD": "1000000",
    }
    args = [sys.executable, "-m", "gateway", "serve", "--port", str(free_port())]
    with running(args, env, folder / "serve.log") as base:
        yield base


def token(base: str, client_id: str, secret: str) -> str:
    response = httpx.post(
        f"{base}/oauth2/token", data={"grant_type": "client_credentials"}, auth=(client_id, secret)
    )
    assert response.status_code == 200, response.text
    value: str = response.json()["access_token"]
    remember(value)
    return value


def schemathesis(base: str, *args: str, config: str = "") -> str:
    folder = Path(os.environ.get("TMPDIR", "/tmp"))
    config_file = folder / f"schemathesis-{os.getpid()}-{free_port()}.toml"
    config_file.write_text(config)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(config_file),
        "run",
        f"{base}/openapi.json",
        "--checks",
        CHECKS,
        "--max-examples",
        EXAMPLES,
        "--workers",
        "1",
        "--seed",
        "13",
        "--no-color",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        *args,
    ]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    finally:
        config_file.unlink()
    output = result.stdout + result.stderr
    print(output[-3000:])
    summary = re.search(r"Test cases:\s*(\d+) generated", output)
    assert summary, output[-3000:]
    assert result.returncode == 0, output[-6000:]
    return output


async def test_consumer_api(live: str, pair: Pair, owner_conn: asyncpg.Connection) -> None:
    student_id = "900000013"
    await add_student(owner_conn, pair.district_id, student_id)
    bearer = token(live, pair.client_id, pair.secret)
    # The credential's own district and a student of it, so that the 200 answers (and the
    # disclosure rows behind them) are exercised, not only the refusals.
    schemathesis(
        live,
        "--include-path-regex",
        "^/api/",
        "--header",
        f"Authorization: Bearer {bearer}",
        config=f'[parameters]\n"path.lea" = "{pair.lea}"\n"path.student_id" = "{student_id}"\n',
    )


def test_oauth_endpoints(live: str, pair: Pair) -> None:
    # Client authentication by form fields or Basic, as each operation documents; with the
    # real credential, so that more than the 401 path is exercised.
    remember(pair.secret)
    schemathesis(
        live,
        "--include-path-regex",
        r"^/(oauth2|\.well-known)/",
        "--auth",
        f"{pair.client_id}:{pair.secret}",
    )


async def test_admin_api(live: str, control: asyncpg.Connection) -> None:
    issued = await credentials.issue_operator(control, label="schemathesis", actor=CONSUMER_ACTOR)
    remember(issued.client_secret)
    bearer = token(live, issued.client_id, issued.client_secret)
    schemathesis(
        live,
        "--include-path-regex",
        "^/admin/api/",
        "--exclude-operation-id",
        "revokeCredential",  # would revoke the run's own credential half-way
        "--header",
        f"Authorization: Bearer {bearer}",
    )
