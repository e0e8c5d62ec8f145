"""One measurement of one scenario, and waiting for a quiet machine before it.

The CPUs are shared with wrk and, on a development machine, with whatever else runs (test
suites, builds). A measurement during which other processes used more than
`cpu.BUSY_OTHER_CORES` is retried, after waiting for the machine to quiet down, up to the
plan's number of attempts; the least disturbed attempt is kept and flagged if still busy.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import cpu
from bench.server import GatewayServer
from bench.wrk import LoadShape, WrkResult, run_wrk


@dataclass(frozen=True)
class Target:
    """The server under test and the PostgreSQL it uses, for CPU accounting."""

    server: GatewayServer
    postmaster_pid: int | None

    def sample(self) -> cpu.Sample:
        return cpu.sample(self.server.process.pid, self.postmaster_pid)


@dataclass(frozen=True)
class Measurement:
    wrk: WrkResult
    statuses: dict[str, int]  # HTTP status -> answers, from the server's counters
    cores: dict[str, float]

    @property
    def other_cores(self) -> float:
        return self.cores["other"]


def other_cores_now(target: Target, window_s: float = 1.0) -> float:
    before = target.sample()
    time.sleep(window_s)
    return cpu.cores(before, target.sample())["other"]


def wait_for_quiet(target: Target, limit_s: float) -> float:
    """Wait (at most `limit_s`) until other processes use less than BUSY_OTHER_CORES over one
    second; returns the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        if other_cores_now(target) <= cpu.BUSY_OTHER_CORES:
            break
    return round(time.monotonic() - started, 1)


def measure_process(
    pgid: int,
    postmaster_pid: int | None,
    run: Callable[[], WrkResult],
) -> Measurement:
    """A measurement of something that is not the gateway (pgbench, the peer): CPU around
    `run`, no server counters (non-2xx answers show in wrk's own error counts)."""
    before = cpu.sample(pgid, postmaster_pid)
    result = run()
    after = cpu.sample(pgid, postmaster_pid)
    return Measurement(result, {}, cpu.cores(before, after))


def measure_once(
    target: Target, requests_file: Path, duration_s: float, shape: LoadShape, log: Path
) -> Measurement:
    server = target.server
    counts_before = server.status_counts()
    cpu_before = target.sample()
    result = run_wrk(server.base_url, requests_file, duration_s, shape, log)
    cpu_after = target.sample()
    time.sleep(0.2)  # answers still in flight when wrk stopped reach the counters
    statuses: Counter[str] = Counter()
    for (_route, status), n in (server.status_counts() - counts_before).items():
        statuses[status] += n
    return Measurement(result, dict(sorted(statuses.items())), cpu.cores(cpu_before, cpu_after))
