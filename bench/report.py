"""Results: one record per (worker count, scenario), ratios to floors, JSON and Markdown."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.cpu import BUSY_OTHER_CORES
from bench.measurement import Measurement

OK, ERRORS, FAILED, SKIPPED = "ok", "errors", "failed", "skipped"


@dataclass
class ScenarioResult:
    workers: int
    scenario: str
    floor: str | None  # None: this is a floor
    status: str = OK  # ok | errors (some answers not 2xx, or socket errors) | failed | skipped
    note: str = ""
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    ratio: float | None = None  # rps / the floor's rps (same run, same workers); floors 1.0
    # rps / each further baseline's rps (same run): the pgbench floor, the peer.
    ratios: dict[str, float] = field(default_factory=dict)
    kind: str = "wrk"  # wrk | pgbench | peer
    requests: int | None = None
    duration_s: float | None = None
    distinct_requests: int | None = None  # lines in the request file wrk replayed
    non_2xx: int | None = None  # answers not 2xx, counted by the server (/metrics)
    server_statuses: dict[str, int] = field(default_factory=dict)  # status -> answers
    wrk_errors: dict[str, int] = field(default_factory=dict)  # connect/read/write/status/timeout
    latency_ms: dict[str, float] = field(default_factory=dict)
    cpu_cores: dict[str, float] = field(default_factory=dict)  # see cpu.cores()
    attempts: int = 0  # measurements made; the least disturbed one is reported
    quiet_wait_s: float = 0.0  # time spent waiting for other processes to quiet down

    def measured(self, measurement: Measurement) -> None:
        wrk, statuses = measurement.wrk, measurement.statuses
        self.cpu_cores = measurement.cores
        self.rps = round(wrk.rps, 1)
        self.requests = wrk.requests
        self.duration_s = round(wrk.duration_s, 2)
        self.latency_ms = {k: round(v / 1000, 3) for k, v in wrk.latency_us.items()}
        self.p50_ms = self.latency_ms["p50"]
        self.p99_ms = self.latency_ms["p99"]
        self.wrk_errors = dict(wrk.errors)
        self.server_statuses = statuses
        self.non_2xx = sum(n for s, n in statuses.items() if not s.startswith("2"))
        problems = []
        if self.non_2xx:
            problems.append(f"{self.non_2xx} non-2xx ({_statuses(statuses)})")
        if wrk.errors["status"] and not self.non_2xx:
            problems.append(f"wrk saw {wrk.errors['status']} answers >= 400")
        if wrk.socket_errors:
            errs = ", ".join(f"{k} {v}" for k, v in wrk.errors.items() if v and k != "status")
            problems.append(f"socket errors: {errs}")
        if problems:
            self.status = ERRORS
            self.note = "; ".join(problems)


def _statuses(statuses: dict[str, int]) -> str:
    return ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()) if not s.startswith("2"))


def fill_ratios(
    results: list[ScenarioResult], compare_to: dict[str, tuple[str, ...]] | None = None
) -> None:
    """Each scenario's req/s over its floor's, for the same worker count; floors get 1.0.
    `compare_to` names further baselines per scenario: the same worker count's, else (the
    peer runs once, as one process) the one worker run's."""
    rates = {(r.workers, r.scenario): r.rps for r in results if r.rps}
    for r in results:
        if r.rps is None:
            continue
        base = r.rps if r.floor is None else rates.get((r.workers, r.floor))
        r.ratio = round(r.rps / base, 3) if base else None
        for other in (compare_to or {}).get(r.scenario, ()):
            base = rates.get((r.workers, other)) or rates.get((1, other))
            if base:
                r.ratios[other] = round(r.rps / base, 3)


def document(
    machine: dict[str, Any], run: dict[str, Any], results: list[ScenarioResult]
) -> dict[str, Any]:
    return {"machine": machine, "run": run, "results": [asdict(r) for r in results]}


def write_json(doc: dict[str, Any], *paths: Path) -> None:
    text = json.dumps(doc, indent=2) + "\n"
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _cores(cpu: dict[str, float]) -> str:
    if not cpu:
        return "-"
    return "/".join(f"{cpu[k]:.1f}" for k in ("gateway", "postgres", "wrk", "other"))


_SHORT = {"floor_pgbench": "/pgbench", "peer_oidc_provider": "/oidc-provider"}


def _status_cell(r: ScenarioResult) -> str:
    if r.status == OK:
        other = r.cpu_cores.get("other", 0.0)
        if other > BUSY_OTHER_CORES:
            return f"ok, but disturbed: other processes used {other:.1f} cores"
        return "ok" if r.attempts <= 1 else f"ok ({r.attempts} tries: the machine was busy)"
    label = {ERRORS: "**ERRORS**", FAILED: "**FAILED**", SKIPPED: "skipped"}[r.status]
    return f"{label}: {r.note}".replace("|", "\\|")


def _facts_lines(run: dict[str, Any]) -> list[str]:
    """Seed time, and per server start: time to ready, worker RSS, change-feed refresh."""
    lines = []
    seed = run.get("seed")
    if seed:
        took = seed.get("seconds")
        lines.append(
            f"- `gateway seed --districts {seed['districts']} --students {seed['students']}`: "
            + (f"{took:,.1f} s" if took is not None else "reused (already seeded in --home)")
        )
    for server in run.get("servers", []):
        parts = [f"ready in {server['ready_s']:.1f} s"]
        if server.get("worker_rss_mib"):
            rss = ", ".join(f"{m:.1f}" for m in server["worker_rss_mib"])
            parts.append(f"worker RSS after the run {rss} MiB")
        if server.get("feed_refresh_ms") is not None:
            parts.append(
                f"a district change reached the worker in {server['feed_refresh_ms']:.0f} ms"
            )
        if server.get("full_reload_ms") is not None:
            parts.append(f"full change-feed resync {server['full_reload_ms']:.0f} ms")
        lines.append(f"- {server['workers']} worker(s): " + "; ".join(parts))
    return lines


def markdown(doc: dict[str, Any], results: list[ScenarioResult]) -> str:
    machine, run = doc["machine"], doc["run"]
    packages = machine["packages"]
    lines = [
        f"### eTranscript gateway benchmark: {run['mode']} run, {machine['date']}",
        "",
        f"`{run['wrk_command']}` on loopback; {machine['nproc']} CPUs ({machine['cpu_model']}) "
        "shared by wrk and the server, so only ratios within this run mean much.",
        f"GATEWAY_LOG_LEVEL={run['log_level']}; uvicorn {packages['uvicorn']}, "
        f"uvloop {packages['uvloop'] or 'MISSING'}, httptools {packages['httptools'] or 'MISSING'}; "
        f"Python {machine['python']}; PostgreSQL {run['postgres']}; "
        f"data: {run['data']}; commit {machine['git_commit'] or '?'}.",
        "",
        "| workers | scenario | req/s | p50 ms | p99 ms | floor | ratio | other ratios | cores gw/pg/wrk/other | status |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: | --- | --- | --- |",
    ]
    for r in results:
        others = ", ".join(f"{_SHORT.get(k, k)} {v:.2f}" for k, v in r.ratios.items()) or "-"
        floor = r.floor or ("(peer)" if r.kind == "peer" else "(floor)")
        lines.append(
            f"| {r.workers} | {r.scenario} | {_num(r.rps)} | {_num(r.p50_ms, 2)} | "
            f"{_num(r.p99_ms, 2)} | {floor} | {_num(r.ratio, 2)} | {others} | "
            f"{_cores(r.cpu_cores)} | {_status_cell(r)} |"
        )
    lines += ["", *_facts_lines(run)]
    notes = list(run.get("notes", []))
    busy = [r for r in results if r.cpu_cores.get("other", 0) > BUSY_OTHER_CORES]
    if busy:
        worst = max(r.cpu_cores["other"] for r in busy)
        notes.append(
            f"Other processes used up to {worst:.2f} cores during {len(busy)} measurement(s), "
            "even after waiting and retrying: the machine was shared; compare those rows with care."
        )
    if notes:
        lines += ["", *(f"- {n}" for n in notes)]
    return "\n".join(lines)
