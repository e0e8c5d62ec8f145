"""`gateway serve`: the production entry refuses to start half-configured, and serves with workers."""

from __future__ import annotations

import glob
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from click.testing import CliRunner

from gateway.cli import cli
from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import PgDatabase


def test_production_names_what_is_missing() -> None:
    result = CliRunner().invoke(
        cli, ["--env-file", "/nonexistent", "serve"], env={"GATEWAY_ENV": "production"}
    )
    assert result.exit_code == 1
    for needed in ("GATEWAY_DATABASE_URL", "GATEWAY_MASTER_KEY", "GATEWAY_BASE_URL"):
        assert needed in result.stderr


def test_two_workers_serve_and_clean_up(database: PgDatabase, tmp_path: Path) -> None:
    before = set(glob.glob("/tmp/gateway-metrics-*"))
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        **cli_env(database),
    }
    log = open(f"{tmp_path}/serve.log", "wb")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, Path(f"{tmp_path}/serve.log").read_text()
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "gateway serve did not become ready"
            time.sleep(0.2)
        for _ in range(20):
            httpx.get(f"http://127.0.0.1:{port}/healthz")
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics").text
        # Both workers' counts add up in the multiprocess registry.
        line = next(
            row
            for row in metrics.splitlines()
            if row.startswith('gateway_http_requests_total{method="GET",route="/healthz"')
        )
        assert float(line.rsplit(" ", 1)[1]) >= 20
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        log.close()
    assert set(glob.glob("/tmp/gateway-metrics-*")) == before, (
        "the metrics folder outlived the server"
    )
