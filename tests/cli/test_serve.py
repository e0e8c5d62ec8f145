"""`gateway serve`: the production entry refuses to start half-configured, and serves with workers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import psutil
from click.testing import CliRunner
from prometheus_client import CollectorRegistry, multiprocess

from gateway.cli import cli
from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import PgDatabase
from tests.deploy.servers import wait_ready


def test_production_names_what_is_missing() -> None:
    result = CliRunner().invoke(
        cli, ["--env-file", "/nonexistent", "serve"], env={"GATEWAY_ENV": "production"}
    )
    assert result.exit_code == 1
    for needed in ("GATEWAY_DATABASE_URL", "GATEWAY_MASTER_KEY", "GATEWAY_BASE_URL"):
        assert needed in result.stderr


def test_two_workers_serve_and_clean_up(database: PgDatabase, tmp_path: Path) -> None:
    # The server's temporary folders go to a folder of this test's own, so that other test
    # runs sharing /tmp (their own servers' metrics folders) cannot change what is seen.
    temp = tmp_path / "tmp"
    temp.mkdir()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        **cli_env(database),
        "TMPDIR": str(temp),
    }
    log = open(f"{tmp_path}/serve.log", "wb")  # noqa: SIM115 - closed below, after the process
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", process, tmp_path / "serve.log", within=60)
        assert list(temp.glob("gateway-metrics-*")), "serve made no metrics folder"
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
    assert not list(temp.glob("gateway-metrics-*")), "the metrics folder outlived the server"


def _worker_counts(metrics_dir: Path, folder: Path) -> dict[str, float]:
    """/healthz answers recorded by each worker, read from its own file alone (copied into a
    folder of its own, through prometheus_client's public collector)."""
    counts: dict[str, float] = {}
    for db in metrics_dir.glob("counter_*.db"):
        alone = folder / db.stem
        alone.mkdir(parents=True, exist_ok=True)
        shutil.copy(db, alone / db.name)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(alone))  # type: ignore[no-untyped-call]
        counts[db.stem] = sum(
            s.value
            for family in registry.collect()
            for s in family.samples
            if s.name == "gateway_http_requests_total" and s.labels.get("route") == "/healthz"
        )
    return counts


def test_metrics_port_is_loopback_summed_over_workers_and_off_the_public_port(
    database: PgDatabase, tmp_path: Path
) -> None:
    port, metrics_port = free_port(), free_port()
    metrics_dir = tmp_path / "multiproc"
    metrics_dir.mkdir()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        **cli_env(database),
        "GATEWAY_METRICS_TOKEN": "scrape-secret-for-the-test",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),  # to read each worker's own counts
    }
    # As --help shows it: gateway serve --workers 2 --metrics-port 9100 (free ports here).
    args = ["serve", "--workers", "2", "--port", str(port), "--metrics-port", str(metrics_port)]
    log_path = tmp_path / "serve.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", *args], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    public, scrape = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{metrics_port}/metrics"
    bearer = {"Authorization": "Bearer scrape-secret-for-the-test"}
    try:
        wait_ready(f"{public}/readyz", process, log_path, within=120)
        # Until both workers have answered some (a new connection each time; bounded).
        sent = 0
        while sent < 2000:
            for _ in range(20):
                assert httpx.get(f"{public}/healthz", timeout=10).status_code == 200
            sent += 20
            counts = _worker_counts(metrics_dir, tmp_path / "alone")
            if sum(1 for c in counts.values() if c > 0) >= 2:
                break
        assert sum(1 for c in counts.values() if c > 0) >= 2, f"one worker answered: {counts}"

        assert httpx.get(f"{public}/metrics", timeout=10).status_code == 404
        assert httpx.get(scrape, timeout=10).status_code == 401  # the token still applies
        text = httpx.get(scrape, headers=bearer, timeout=10).text
        line = next(
            row
            for row in text.splitlines()
            if row.startswith('gateway_http_requests_total{method="GET",route="/healthz"')
        )
        assert float(line.rsplit(" ", 1)[1]) == sent  # every worker's answers, summed
        assert "gateway_build_info{" in text
        listening = {
            c.laddr.ip
            for c in psutil.Process(process.pid).net_connections(kind="tcp")
            if c.status == psutil.CONN_LISTEN and c.laddr.port == metrics_port
        }
        assert listening == {"127.0.0.1"}, "the metrics port binds loopback by default"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        log.close()
