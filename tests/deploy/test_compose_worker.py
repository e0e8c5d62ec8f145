"""The compose file's `worker` service: its command line starts a release worker whose own
health listener answers the service's HEALTHCHECK (the image's default asks the web process's
port, which a worker does not serve)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import PgDatabase
from tests.deploy.servers import COMPOSE, stop


def test_the_worker_services_healthcheck_answers_its_own_command(
    database: PgDatabase, tmp_path: Path
) -> None:
    service = COMPOSE["services"]["worker"]
    command = list(service["command"])
    assert command[:2] == ["gateway", "worker"]
    compose_port = command[command.index("--metrics-port") + 1]
    check = list(service["healthcheck"]["test"])
    assert check[0] == "CMD"
    url = re.search(r"http://127\.0\.0\.1:(\d+)/healthz", " ".join(check))
    assert url is not None and url.group(1) == compose_port, "the check asks the worker's port"

    port = str(free_port())  # the compose port may be taken on a test machine
    command[command.index("--metrics-port") + 1] = port
    check = [part.replace(f":{compose_port}/", f":{port}/") for part in check[1:]]
    env = {k: str(v) for k, v in service["environment"].items()}
    # The compose file takes the base URL from .env; production wants an https one.
    env.update(
        cli_env(database), GATEWAY_ENV=env["GATEWAY_ENV"], GATEWAY_BASE_URL="https://127.0.0.1"
    )
    base = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", *command[1:]],
            env={**base, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            # Before the worker listens the check fails; then it passes (a condition, bounded
            # only so that a hung worker fails the test).
            deadline = time.monotonic() + 120
            while True:
                assert process.poll() is None, log.read_text()
                probe = subprocess.run(
                    [sys.executable if check[0] == "python" else check[0], *check[1:]],
                    capture_output=True,
                    timeout=30,
                    check=False,
                )
                if probe.returncode == 0:
                    break
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        finally:
            stop(process)
