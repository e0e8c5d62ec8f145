"""`bench/run`: one command that measures the gateway against floors of the same run.

The run, step by step (`run()` below):
 1. check that wrk is installed;
 2. start an embedded PostgreSQL in a temporary folder (or --home DIR, kept and reused),
    bootstrap the roles and a database, `gateway migrate`, `gateway seed` (when that command
    exists), register districts and a consumer, `gateway credential issue` a few credentials;
 3. for each worker count: `gateway serve --workers N` on a free loopback port, wait for
    /readyz, then for each scenario: prepare its requests, probe a few, warm up, measure
    with wrk, and read the server's own status counters around the measurement;
 4. ratios to the floors of the same run; JSON to bench/results/latest.json (and --json FILE),
    a Markdown table on stdout;
 5. stop everything it started, on success, error, Ctrl+C or SIGTERM.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import secrets
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from types import FrameType

from bench import database, machine
from bench.cpu import BUSY_OTHER_CORES
from bench.errors import BenchError
from bench.measurement import Measurement, Target, measure_once, wait_for_quiet
from bench.provision import (
    Credential,
    GatewayCli,
    Seeded,
    State,
    add_districts,
    ensure_consumer,
    issue_credentials,
    migrate,
    seed,
)
from bench.report import (
    ERRORS,
    FAILED,
    SKIPPED,
    ScenarioResult,
    document,
    fill_ratios,
    markdown,
    write_json,
)
from bench.requestfile import Request, write_requests
from bench.scenarios import Context, Scenario, select, send
from bench.server import GatewayServer
from bench.wrk import LUA_SCRIPT, LoadShape, run_wrk, wrk_path

_WARNING_LINE = re.compile(r'"level":\s*"(?:warning|error|critical)"')
RESULTS_DIR = Path(__file__).resolve().parent / "results"
# Settings every server of a run gets. The token rate limit is per client and would
# otherwise answer 429 after 40 requests; a long token lifetime outlasts any run.
SERVER_SETTINGS = {
    "GATEWAY_ENV": "test",
    "GATEWAY_BENCH_ROUTES": "1",
    "GATEWAY_TOKEN_RATE_PER_SECOND": "1000000",
    "GATEWAY_TOKEN_RATE_BURST": "1000000",
    "GATEWAY_TOKEN_TTL_SECONDS": "3600",
}


@dataclass(frozen=True)
class Plan:
    mode: str  # "quick" or "full"
    workers: tuple[int, ...]
    scenarios: tuple[Scenario, ...]
    duration_s: float
    warmup_s: float
    data: Seeded  # what `gateway seed` is asked for
    seed: bool  # False: --no-seed
    credentials: int
    shape: LoadShape
    log_level: str
    seed_timeout_s: float
    attempts: int  # measurements per scenario when other processes disturb them
    quiet_wait_s: float  # longest wait for a quiet machine before each attempt


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/run",
        description="Measure the gateway's throughput and latency against floors of the same run.",
        epilog="See bench/README.md for what the scenarios and ratios mean.",
    )
    add = parser.add_argument
    add("--quick", action="store_true", help="3 s per scenario, 3 districts x 200 students")
    add("--json", type=Path, metavar="FILE", help="also write the results here")
    add("--workers", type=int, nargs="+", metavar="N", help="worker counts (default: 1 2)")
    add("--scenarios", nargs="+", metavar="NAME", help="only these (and the floors they need)")
    add("--home", type=Path, metavar="DIR", help="keep and reuse the database in DIR")
    add("--keep", action="store_true", help="keep the temporary folder (database, logs)")
    add("--fresh", action="store_true", help="drop and rebuild the database in --home")
    add("--duration", type=float, metavar="S", help="seconds per measurement (3 quick, 10 full)")
    add("--warmup", type=float, metavar="S", help="seconds of warm-up per scenario (1 / 3)")
    add("--districts", type=int, metavar="N", help="districts to seed (3 quick, 300 full)")
    add("--students", type=int, metavar="N", help="students per district (200 / 1000)")
    add("--no-seed", action="store_true", help="skip `gateway seed` (and scenarios needing it)")
    add(
        "--credentials",
        type=int,
        metavar="N",
        help="credentials to issue (3 quick, one per district full)",
    )
    add("--connections", type=int, default=64, metavar="N", help="wrk -c (default 64)")
    add("--threads", type=int, default=2, metavar="N", help="wrk -t (default 2)")
    add("--attempts", type=int, metavar="N", help="tries when other processes disturb (2 / 3)")
    add("--quiet-wait", type=float, metavar="S", help="wait for a quiet machine, at most (5 / 30)")
    add("--log-level", default="WARNING", help="GATEWAY_LOG_LEVEL of the server (WARNING)")
    options = parser.parse_args(argv)
    if options.workers and any(not 1 <= w <= 64 for w in options.workers):
        parser.error("--workers: between 1 and 64")
    return options


def make_plan(options: argparse.Namespace) -> Plan:
    quick = bool(options.quick)
    data = Seeded(
        districts=options.districts or (3 if quick else 300),
        students=options.students or (200 if quick else 1000),
    )
    return Plan(
        mode="quick" if quick else "full",
        workers=tuple(options.workers or (1, 2)),
        scenarios=tuple(select(options.scenarios)),
        duration_s=options.duration or (3.0 if quick else 10.0),
        warmup_s=options.warmup if options.warmup is not None else (1.0 if quick else 3.0),
        data=data,
        seed=not options.no_seed,
        # Full runs hold a credential for every district, so that transcript_all spreads over
        # all 300 and shows whether routing stays flat from 3 districts to 300.
        credentials=min(options.credentials or (3 if quick else data.districts), data.districts),
        shape=LoadShape(threads=options.threads, connections=options.connections),
        log_level=options.log_level.upper(),
        seed_timeout_s=600.0 if quick else 3600.0,
        attempts=options.attempts or (2 if quick else 3),
        quiet_wait_s=options.quiet_wait
        if options.quiet_wait is not None
        else (5.0 if quick else 30.0),
    )


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


# --- the run ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    if wrk_path() is None:
        say("wrk is not on PATH; install it with:\n    apt-get install -y wrk")
        return 2
    _handle_signals()
    try:
        plan = make_plan(options)
        return run(plan, options)
    except BenchError as exc:
        say(f"failed: {exc}")
        return 2
    except KeyboardInterrupt:
        say("interrupted; everything it started has been stopped")
        return 130
    except Stopped as stop:
        say(f"stopped by signal {stop.signum}; everything it started has been stopped")
        return 128 + stop.signum


def run(plan: Plan, options: argparse.Namespace) -> int:
    started = time.monotonic()
    facts = machine.facts()
    with ExitStack() as stack, _quiet_unwinding():
        home = _home(options, stack)
        logs = home / "logs"
        logs.mkdir(exist_ok=True)
        say(f"embedded PostgreSQL under {home}")
        db = database.start(home, fresh=options.fresh)
        stack.callback(database.stop, db.server)
        state_file = home / "bench-state.json"
        if options.fresh:
            state_file.unlink(missing_ok=True)
        state = State.load(state_file, _new_master_key())
        env = gateway_env(db, home, state.master_key, plan.log_level)
        cli = GatewayCli(env, cwd=home, log=logs / "cli.log")
        say("gateway migrate")
        try:
            migrate(cli)
        except BenchError as exc:
            hint = "" if options.fresh else " (a reused --home? `--fresh` rebuilds its database)"
            raise BenchError(f"{exc}{hint}") from exc
        notes: list[str] = []
        seeded, credentials = provision(cli, state, plan, notes)
        results: list[ScenarioResult] = []
        for workers in plan.workers:
            results += measure_workers(plan, workers, env, home, db, seeded, credentials, notes)
        fill_ratios(results)
        run_facts = {
            "mode": plan.mode,
            "workers": list(plan.workers),
            "duration_s": plan.duration_s,
            "warmup_s": plan.warmup_s,
            "attempts": plan.attempts,
            "quiet_wait_s": plan.quiet_wait_s,
            "busy_other_cores": BUSY_OTHER_CORES,
            "wrk_command": f"{plan.shape.command(plan.duration_s)} -s bench/lua/{LUA_SCRIPT.name}",
            "wrk": asdict(plan.shape),
            "log_level": plan.log_level,
            "server_settings": {**SERVER_SETTINGS, "GATEWAY_LOG_LEVEL": plan.log_level},
            "postgres": database.server_version(db.owner_url),
            "data": _data_label(seeded, credentials),
            "seeded": asdict(seeded) if seeded else None,
            "credentials": len(credentials),
            "home": str(home) if options.home or options.keep else None,
            "notes": notes,
            "elapsed_s": round(time.monotonic() - started, 1),
        }
        facts["loadavg_at_end"] = machine.loadavg()
        doc = document(facts, run_facts, results)
        write_json(doc, RESULTS_DIR / "latest.json", *([options.json] if options.json else []))
    print(markdown(doc, results))
    say(
        f"results in {RESULTS_DIR / 'latest.json'}"
        + (f" and {options.json}" if options.json else "")
    )
    bad = [r for r in results if r.status in (ERRORS, FAILED)]
    return 1 if bad else 0


def provision(
    cli: GatewayCli, state: State, plan: Plan, notes: list[str]
) -> tuple[Seeded | None, list[Credential]]:
    """Seed (when `gateway seed` exists), register districts, a consumer and credentials."""
    from tenants.synthetic.generator import district_plans

    seeded: Seeded | None = None
    if plan.seed and cli.has("seed"):
        data = plan.data
        say(f"gateway seed --districts {data.districts} --students {data.students}")
        took = seed(cli, state, data, plan.seed_timeout_s)
        say("  already seeded (reusing --home)" if took is None else f"  done in {took:.0f} s")
        seeded = state.seeded
    else:
        why = (
            "--no-seed" if not plan.seed else "`gateway seed` is not available (its --help failed)"
        )
        notes.append(
            f"No seeded students ({why}): districts were registered with `gateway district add`, "
            "and scenarios that need students were skipped."
        )
        say(f"no seeding: registering {plan.credentials} districts with the CLI")
        add_districts(cli, plan.credentials)
    districts = [p.lea_code for p in district_plans(plan.credentials)]
    ensure_consumer(cli)
    say(f"gateway credential issue x {len(districts)}")
    return seeded, issue_credentials(cli, state, districts)


def measure_workers(
    plan: Plan,
    workers: int,
    env: dict[str, str],
    home: Path,
    db: database.Database,
    seeded: Seeded | None,
    credentials: list[Credential],
    notes: list[str],
) -> list[ScenarioResult]:
    server_env = dict(env)
    if workers > 1:
        # As `gateway serve` would (one /metrics for all workers), but inside our home so that
        # nothing is left in /tmp. One worker keeps in-memory metrics, as in production.
        metrics_dir = home / f"metrics-w{workers}"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        server_env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
    log = home / "logs" / f"serve-w{workers}.log"
    say(f"gateway serve --workers {workers}")
    with GatewayServer(server_env, home, workers, log) as server:
        server.wait_ready()
        ctx = Context(server.base_url, credentials, seeded, db.owner_url)
        target = Target(server, db.server.handle.get_postmaster_info().process.pid)
        results = []
        for scenario in plan.scenarios:
            result = measure(plan, scenario, ctx, target, home)
            say(f"  [{workers}w] {scenario.name}: {_progress(result)}")
            results.append(result)
    warnings = _log_warnings(log)
    if warnings:
        notes.append(
            f"With {workers} worker(s) the server logged {warnings} warning or error lines "
            f"({log}; run with --keep or --home to read it)."
        )
    return results


def measure(
    plan: Plan, scenario: Scenario, ctx: Context, target: Target, home: Path
) -> ScenarioResult:
    """Prepare, probe, warm up and measure one scenario; failures become the result's note."""
    workers = target.server.workers
    result = ScenarioResult(workers, scenario.name, scenario.floor)
    if scenario.needs_seed and ctx.seeded is None:
        result.status, result.note = SKIPPED, "needs seeded students (none were loaded)"
        return result
    wrk_log = home / "logs" / f"wrk-w{workers}.log"
    try:
        requests = list(scenario.prepare(ctx))
        path = write_requests(home / "requests" / f"{scenario.name}-w{workers}.tsv", requests)
        result.distinct_requests = len(requests)
        probe(ctx.base_url, requests)
        best: Measurement | None = None
        for attempt in range(1, plan.attempts + 1):
            result.quiet_wait_s += wait_for_quiet(target, plan.quiet_wait_s)
            if plan.warmup_s > 0:
                run_wrk(ctx.base_url, path, plan.warmup_s, plan.shape, wrk_log)
            measured = measure_once(target, path, plan.duration_s, plan.shape, wrk_log)
            result.attempts = attempt
            if best is None or measured.other_cores < best.other_cores:
                best = measured
            if measured.other_cores <= BUSY_OTHER_CORES:
                break
        assert best is not None
        result.measured(best)
    except BenchError as exc:
        result.status, result.note = FAILED, str(exc)
    except Exception as exc:  # a scenario's own bug must not end the run: report it
        result.status, result.note = FAILED, f"{type(exc).__name__}: {exc}"
    return result


def probe(base_url: str, requests: Sequence[Request]) -> None:
    """Send the first, middle and last prepared request once; each must answer 2xx."""
    picks = {0, len(requests) // 2, len(requests) - 1}
    for index in sorted(picks):
        request = requests[index]
        try:
            status, body = send(base_url, request)
        except OSError as exc:
            raise BenchError(f"probe {request.method} {request.path}: {exc}") from exc
        if not 200 <= status < 300:
            excerpt = body[:300].decode("utf-8", "replace")
            raise BenchError(f"probe {request.method} {request.path} answered {status}: {excerpt}")


# --- helpers ------------------------------------------------------------------------------


def gateway_env(
    db: database.Database, home: Path, master_key: str, log_level: str
) -> dict[str, str]:
    """The environment of every `gateway` process: ours only, nothing inherited."""
    inherited = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GATEWAY_") and k != "PROMETHEUS_MULTIPROC_DIR"
    }
    return {
        **inherited,
        **SERVER_SETTINGS,
        "GATEWAY_HOME": str(home),
        "GATEWAY_DATABASE_URL": db.app_url,
        "GATEWAY_MIGRATION_DATABASE_URL": db.owner_url,
        "GATEWAY_MASTER_KEY": master_key,
        "GATEWAY_LOG_LEVEL": log_level,
    }


def _new_master_key() -> str:
    return "bench:" + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def _home(options: argparse.Namespace, stack: ExitStack) -> Path:
    """--home DIR (kept), or a temporary folder removed at the end unless --keep."""
    if options.home:
        home: Path = options.home.expanduser().resolve()
        home.mkdir(parents=True, exist_ok=True)
        return home
    home = Path(tempfile.mkdtemp(prefix="gateway-bench-"))
    if options.keep:
        stack.callback(say, f"kept {home} (--keep)")
    else:
        stack.callback(shutil.rmtree, home, ignore_errors=True)
    return home


def _data_label(seeded: Seeded | None, credentials: Sequence[Credential]) -> str:
    if seeded:
        return f"{seeded.districts} districts x {seeded.students} students, {len(credentials)} credentials"
    return f"no students; {len(credentials)} districts and credentials from the CLI"


def _progress(result: ScenarioResult) -> str:
    if result.rps is None:
        return f"{result.status}: {result.note}"
    text = f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms"
    return text + (f" [{result.status}: {result.note}]" if result.note else "")


def _log_warnings(log: Path) -> int:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return 0
    return len(_WARNING_LINE.findall(text))


class Stopped(BaseException):
    """SIGTERM or SIGHUP: unwind like Ctrl+C, so every clean-up step runs."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _handle_signals() -> None:
    """Ctrl+C raises KeyboardInterrupt even when a script started us with SIGINT ignored (as
    shells do for background jobs); SIGTERM and SIGHUP raise Stopped."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise Stopped(signum)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


@contextmanager
def _quiet_unwinding() -> Iterator[None]:
    """Once the run is failing or interrupted, ignore further Ctrl+C and SIGTERM so that the
    clean-up (server, database, temporary folder) is not itself cut short."""
    try:
        yield
    except BaseException:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        raise
