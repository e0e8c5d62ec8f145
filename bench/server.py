"""`gateway serve` in its own process group: start, wait until ready, read its counters, stop."""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import psutil
from prometheus_client.parser import text_string_to_metric_families

from bench.errors import BenchError

HOST = "127.0.0.1"
REQUESTS_METRIC = "gateway_http_requests_total"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def parse_status_counts(exposition: str) -> Counter[tuple[str, str]]:
    """(route template, status) -> answers, from Prometheus exposition text. Parsed by
    prometheus_client's own parser: label values hold braces (`/etranscripts/{student_id}`)
    and escaped quotes, which a regular expression over the line got wrong, silently. A text
    without the counter at all is an error, never "no errors"."""
    counts: Counter[tuple[str, str]] = Counter()
    found = False
    for family in text_string_to_metric_families(exposition):
        if family.name != REQUESTS_METRIC.removesuffix("_total"):
            continue
        found = True
        for sample in family.samples:
            if sample.name != REQUESTS_METRIC:
                continue  # the family also carries gateway_http_requests_created
            route = sample.labels.get("route", "?")
            if route != "/metrics":
                counts[route, sample.labels.get("status", "?")] += int(sample.value)
    if not found:
        raise BenchError(f"/metrics has no {REQUESTS_METRIC}: cannot count answers by status")
    return counts


class GatewayServer:
    """One `gateway serve --workers N` on a free loopback port, logging to `log`."""

    def __init__(self, env: Mapping[str, str], cwd: Path, workers: int, log: Path) -> None:
        self.port = free_port()
        self.workers = workers
        self.log = log
        self.base_url = f"http://{HOST}:{self.port}"
        env = {**env, "GATEWAY_BASE_URL": self.base_url}
        command = ["gateway", "serve", "--host", HOST, "--port", str(self.port)]
        command += ["--workers", str(workers)]
        self.started = time.monotonic()
        with log.open("ab") as out:
            # A session of its own: stop() signals the supervisor and every worker at once,
            # and a Ctrl+C in the terminal reaches the harness, which then stops them in order.
            self.process = subprocess.Popen(
                command,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout_s: float = 60.0) -> float:
        """Until GET /readyz answers 200: the seconds since the process started (start-up
        to ready, caches loaded); raises BenchError with the log's tail otherwise."""
        deadline = self.started + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(
                    f"gateway serve exited ({self.process.returncode}):\n{self.tail()}"
                )
            with contextlib.suppress(OSError, http.client.HTTPException):
                if get(self.port, "/readyz", timeout=2)[0] == 200:
                    return time.monotonic() - self.started
            time.sleep(0.05)
        raise BenchError(f"gateway serve was not ready in {timeout_s:.0f} s:\n{self.tail()}")

    def status_counts(self) -> Counter[tuple[str, str]]:
        """Responses so far by (route template, status), from /metrics (every worker's sum)."""
        status, body = get(self.port, "/metrics", timeout=10)
        if status != 200:
            raise BenchError(f"/metrics answered {status}")
        return parse_status_counts(body.decode())

    def worker_rss_mib(self) -> list[float]:
        """Resident memory of each worker process (with one worker, the server itself)."""
        pgid = self.process.pid
        found = []
        for process in psutil.process_iter():
            with contextlib.suppress(psutil.Error, ProcessLookupError):
                if os.getpgid(process.pid) != pgid:
                    continue
                if self.workers > 1 and process.pid == pgid:
                    continue  # the supervisor serves nothing
                found.append(round(process.memory_info().rss / 2**20, 1))
        return sorted(found)

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, grace_s: float = 15.0) -> None:
        """SIGTERM to the whole process group, SIGKILL after `grace_s`; waits for the group."""
        pgid = self.process.pid  # the session leader's pid is the group id
        _signal_group(pgid, signal.SIGTERM)
        try:
            self.process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            _signal_group(pgid, signal.SIGKILL)
            self.process.wait(timeout=10)
        # Workers may outlive the supervisor by a moment; make sure the group is empty.
        deadline = time.monotonic() + grace_s
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)

    def __enter__(self) -> GatewayServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, sig)


def _group_alive(pgid: int) -> bool:
    """Whether a live (not zombie) process is left in the group."""
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(process.pid) == pgid and process.status() != psutil.STATUS_ZOMBIE:
                return True
    return False
