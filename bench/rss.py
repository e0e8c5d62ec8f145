"""Peak memory and CPU time of a run: this process and the PostgreSQL server it loads into
(Linux /proc).

A sampler thread reads /proc a few times a second while the run goes. For PostgreSQL, every
process of the cluster (the postmaster's children: the backends and the background workers)
counts: its private memory (RssAnon, summed) plus the shared memory (RssShmem: shared buffers
and the like), counted once, as the largest any process has mapped. Summing plain RSS would
count the shared buffers once per backend.

CPU time is what a shared machine does not distort: wall time stretches when other work runs,
the CPU seconds a load needs do not. PostgreSQL's is the postmaster's and its children's, the
reaped ones included (the postmaster's cutime and cstime).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

_KIB = 1024
_TICKS = os.sysconf("SC_CLK_TCK")


def status_kib(pid: int) -> dict[str, int]:
    """The memory lines of /proc/PID/status, in KiB ({} when the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return {}
    found = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.startswith(("Vm", "Rss")) and value.strip().endswith("kB"):
            found[key] = int(value.split()[0])
    return found


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    return int(stat.rsplit(")", 1)[1].split()[1])


def cpu_seconds(pid: int, *, reaped: bool = False) -> float:
    """User + system time of a process (and of its reaped children), 0 when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    # After the name: state is field 3, so utime..cstime (fields 14-17) are [11:15].
    ticks = [int(v) for v in fields[11:15]]
    return (sum(ticks) if reaped else ticks[0] + ticks[1]) / _TICKS


def postgres_cpu_seconds(postmaster: int) -> float:
    return cpu_seconds(postmaster, reaped=True) + sum(
        cpu_seconds(pid) for pid in children_of(postmaster)
    )


def children_of(parent: int) -> list[int]:
    # The kernel's own list when it keeps one (CONFIG_PROC_CHILDREN); else a scan of /proc.
    try:
        listed = Path(f"/proc/{parent}/task/{parent}/children").read_text(encoding="ascii")
    except OSError:
        pass
    else:
        return [int(pid) for pid in listed.split()]
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and parent_of(int(entry.name)) == parent:
            found.append(int(entry.name))
    return found


@dataclass
class Peaks:
    loader_mib: float = 0.0  # this process, RSS
    postgres_mib: float = 0.0  # the cluster: private memory summed, shared memory once
    postgres_backend_mib: float = 0.0  # the largest single Postgres process, private memory
    loader_cpu_seconds: float = 0.0  # this process, every thread
    postgres_cpu_seconds: float = 0.0


class Sampler:
    """`with Sampler(postmaster_pid) as s: ...`, then `s.peaks`."""

    def __init__(self, postmaster: int | None, interval: float = 0.2) -> None:
        self.postmaster = postmaster
        self.interval = interval
        self.peaks = Peaks()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._cpu_before = (0.0, 0.0)

    def sample(self) -> None:
        own = status_kib(os.getpid()).get("VmRSS", 0) / _KIB
        self.peaks.loader_mib = max(self.peaks.loader_mib, own)
        if self.postmaster is None:
            return
        private = shared = largest = 0
        for pid in [self.postmaster, *children_of(self.postmaster)]:
            found = status_kib(pid)
            anon = found.get("RssAnon", 0)
            private += anon
            largest = max(largest, anon)
            shared = max(shared, found.get("RssShmem", 0))
        self.peaks.postgres_mib = max(self.peaks.postgres_mib, (private + shared) / _KIB)
        self.peaks.postgres_backend_mib = max(self.peaks.postgres_backend_mib, largest / _KIB)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def _cpu(self) -> tuple[float, float]:
        own = sum(os.times()[:2])
        return own, postgres_cpu_seconds(self.postmaster) if self.postmaster else 0.0

    def __enter__(self) -> Sampler:
        self._cpu_before = self._cpu()
        self.sample()
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()
        own, postgres = self._cpu()
        self.peaks.loader_cpu_seconds = own - self._cpu_before[0]
        self.peaks.postgres_cpu_seconds = postgres - self._cpu_before[1]
