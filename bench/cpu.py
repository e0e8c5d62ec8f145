"""Who used the CPUs during a measurement: the gateway, PostgreSQL, wrk, and everything else.

wrk and the server share this machine's cores, and other people's work may too; a run whose
"other" share is large measured a busy machine, not the gateway. Figures are in cores
(CPU-seconds per second of wall time), from /proc/stat, psutil and getrusage.
"""

from __future__ import annotations

import contextlib
import os
import resource
import time
from dataclasses import dataclass

import psutil

_TICK = os.sysconf("SC_CLK_TCK")
# Cores used by other processes above which a measurement counts as disturbed.
BUSY_OTHER_CORES = 0.25


@dataclass(frozen=True)
class Sample:
    at: float
    tasks: float  # all CPUs, seconds spent running processes (user, nice, system) since boot
    interrupts: float  # irq and softirq (loopback networking lands here), no process's own
    steal: float  # taken by the hypervisor for other machines
    gateway: float
    postgres: float
    wrk: float  # reaped children of this process (wrk is the only one during a measurement)


def _system_seconds() -> tuple[float, float, float]:
    """(tasks, interrupts, steal) seconds of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system) / _TICK, (irq + softirq) / _TICK, steal / _TICK


def _cpu(process: psutil.Process, with_reaped_children: bool) -> float:
    with contextlib.suppress(psutil.Error):
        t = process.cpu_times()
        total = t.user + t.system
        if with_reaped_children:
            total += t.children_user + t.children_system
        return float(total)
    return 0.0


def _group_cpu(pgid: int) -> float:
    total = 0.0
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error, ProcessLookupError):
            if os.getpgid(process.pid) == pgid:
                total += _cpu(process, with_reaped_children=process.pid == pgid)
    return total


def _tree_cpu(root_pid: int | None) -> float:
    if root_pid is None:
        return 0.0
    try:
        root = psutil.Process(root_pid)
        children = root.children(recursive=True)
    except psutil.Error:
        return 0.0
    return _cpu(root, with_reaped_children=True) + sum(_cpu(c, False) for c in children)


def sample(gateway_pgid: int, postmaster_pid: int | None) -> Sample:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    tasks, interrupts, steal = _system_seconds()
    return Sample(
        at=time.monotonic(),
        tasks=tasks,
        interrupts=interrupts,
        steal=steal,
        gateway=_group_cpu(gateway_pgid),
        postgres=_tree_cpu(postmaster_pid),
        wrk=usage.ru_utime + usage.ru_stime,
    )


def cores(before: Sample, after: Sample) -> dict[str, float]:
    """Cores used by each party between two samples. `other` is every other process (the
    harness itself is idle meanwhile), `interrupts` the kernel's irq/softirq time, `steal`
    what the hypervisor took."""
    wall = max(after.at - before.at, 1e-9)

    def rate(name: str) -> float:
        return float(getattr(after, name) - getattr(before, name)) / wall

    used = {name: rate(name) for name in ("gateway", "postgres", "wrk")}
    used["other"] = max(0.0, rate("tasks") - sum(used.values()))
    used["interrupts"] = rate("interrupts")
    used["steal"] = rate("steal")
    return {k: round(v, 2) for k, v in used.items()}
