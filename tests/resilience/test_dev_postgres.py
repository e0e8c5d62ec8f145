"""`gateway dev` and its embedded PostgreSQL (issue 12, point 7): a Postgres it joined but did
not start is left running on exit; its own, if it dies while dev serves, is started again."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import psutil
import pytest

from tests.cli.test_dev import dev_process

READY = 120.0  # seconds; only a broken start takes this long


@pytest.fixture
def home() -> Iterator[Path]:
    """A home of its own, outside pytest's shared basetemp: on a machine where several test
    runs share /tmp/pytest-of-USER, another run's cleanup of old numbered folders can reach a
    data directory while its postmaster runs (seen here as "Permission denied" in recovery)."""
    made = Path(tempfile.mkdtemp(prefix="gateway-dev-pg-"))
    made.chmod(0o755)  # the postmaster runs as another user when the tests run as root
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().splitlines()[0])


@contextmanager
def dev(home: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    # --home before the command name, the other place an operator may write it.
    with dev_process(home, ["--home", str(home), "dev", "--no-seed"]) as running:
        yield running


def stop_postmaster(pid: int) -> None:
    """Fast shutdown (SIGINT), as `pg_ctl stop -m fast` would."""
    if psutil.pid_exists(pid):
        process = psutil.Process(pid)
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def test_a_postgres_dev_did_not_start_is_left_running(home: Path) -> None:
    # Someone else starts the embedded server and goes away without stopping it (os._exit
    # skips pgserver's atexit hook): a running postmaster that no live process holds.
    started = subprocess.run(
        [sys.executable, "-c",
         "import os, sys; from pathlib import Path;"
         " from gateway.database.embedded import start_embedded;"
         " start_embedded(Path(sys.argv[1])); os._exit(0)", str(home)],
        timeout=READY, check=True,
    )  # fmt: skip
    assert started.returncode == 0
    pid = postmaster_pid(home)
    try:
        with dev(home) as (_base, process):
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=60) in (0, 128 + signal.SIGTERM)
        time.sleep(1)
        assert psutil.pid_exists(pid), "gateway dev stopped a PostgreSQL it did not start"
    finally:
        stop_postmaster(pid)


def test_its_own_postgres_is_restarted_when_it_dies(home: Path) -> None:
    with dev(home) as (base, process):
        first = postmaster_pid(home)
        os.kill(first, signal.SIGQUIT)  # immediate shutdown: as abrupt as a crash
        deadline = time.monotonic() + READY
        while True:  # the watchdog starts it again, and the gateway is ready again
            assert process.poll() is None, (home / "stderr.log").read_text()
            try:
                again = postmaster_pid(home)
            except (OSError, ValueError, IndexError):
                again = first
            if again != first and psutil.pid_exists(again):
                try:
                    if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
            assert time.monotonic() < deadline, "the embedded PostgreSQL was not restarted"
            time.sleep(0.25)
        assert "started it again" in (home / "stderr.log").read_text()
        last = postmaster_pid(home)
    for _ in range(100):  # started by dev (again): stopped with it
        if not psutil.pid_exists(last):
            break
        time.sleep(0.1)
    assert not psutil.pid_exists(last)
