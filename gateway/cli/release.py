"""`gateway release ...` (queue a batch, follow it, report on it) and `gateway worker`."""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import sys
from collections.abc import Mapping
from typing import Any, TextIO

import asyncpg
import click

from gateway.cli.context import (
    control_connection,
    district_stores,
    on_control,
    resolved,
    run,
    state,
)
from gateway.cli.options import cli_actor, json_option
from gateway.cli.output import emit, emit_json, progress
from gateway.cli.server import bind
from gateway.ferpa import DEFAULT_BASIS, DEFAULT_PURPOSE, LEGAL_BASES
from gateway.logging import configure_logging
from gateway.outgoing.batches import BatchRequest, queue_batch
from gateway.outgoing.client import Timeouts
from gateway.outgoing.report import BatchReport, list_batches, load_report
from gateway.outgoing.retry import RetryPolicy
from gateway.outgoing.worker import Worker, release_worker_config
from gateway.pesc import DEFAULT_TRANSCRIPT_VERSION, TRANSCRIPT_VERSIONS
from gateway.services import store_urls
from gateway.settings import Settings
from tenants.stores import StoreRegistry

LIST_COLUMNS = [
    "batch_id",
    "lea_code",
    "connection_name",
    "status",
    "item_count",
    "delivered",
    "failed",
    "queued",
    "in_progress",
    "created_at",
    "finished_at",
]
LINE_COLUMNS = ["item_no", "student_id", "status", "attempts", "vendor_reference", "error", "time"]
_SEPARATORS = re.compile(r"[\s,;]+")


def _ids(values: tuple[str, ...], source: TextIO | None) -> tuple[str, ...]:
    """Student ids from --students (comma or space separated, repeatable) and a file."""
    text = " ".join(values) + (" " + source.read() if source is not None else "")
    return tuple(s for s in _SEPARATORS.split(text) if s)


def _selection_text(selection: Mapping[str, Any]) -> str:
    if selection.get("kind") == "cohort":
        return f"cohort {selection.get('cohort_year')}"
    return "list of students"


def _queued_view(batch: Mapping[str, Any]) -> dict[str, Any]:
    """A just-queued batch, for people."""
    return {
        "batch_id": batch["batch_id"],
        "district": f"{batch['lea_code']} {batch['district_name']}",
        "connection": batch["connection_name"],
        "selection": _selection_text(batch["selection"]),
        "students": batch["item_count"],
        "status": batch["status"],
    }


def _status_view(report: BatchReport) -> dict[str, Any]:
    """The summary, flat, for people: one line per field."""
    data = report.summary()
    counts = data.pop("counts")
    data["selection"] = _selection_text(report.selection)
    data.update(counts)
    return data


@click.group("release")
def release() -> None:
    """Batch releases: send many students' transcripts to a district's vendor at once.

    \b
    gateway release queue --district 920 --connection Parchment --cohort 2025
    gateway release status 42 --watch      a progress bar until the batch finishes
    gateway release report 42 --csv        the eTranscript Batch Report, one line per student
    \b
    A worker delivers the items: `gateway worker` (or the one inside `gateway dev`).
    """


@release.command("queue")
@click.option("--district", "lea", required=True, help="LEA code of the district.")
@click.option("--connection", required=True, help="The outgoing connection: its id or name.")
@click.option(
    "--students",
    multiple=True,
    help="Student ids (state ids), comma separated; may be repeated.",
)
@click.option(
    "--students-file",
    type=click.File("r"),
    help="A file of student ids, one per line ('-' for standard input).",
)
@click.option("--cohort", "cohort_year", type=int, help="Every student of this graduation year.")
@click.option(
    "--purpose", default=DEFAULT_PURPOSE, show_default=True, help="For the disclosure log."
)
@click.option(
    "--legal-basis",
    type=click.Choice(list(LEGAL_BASES)),
    default=DEFAULT_BASIS,
    show_default=True,
    help="34 CFR 99.31(a)(2) (enrollment elsewhere) or 99.30 (written consent).",
)
@click.option(
    "--pesc-version",
    type=click.Choice(TRANSCRIPT_VERSIONS),
    default=DEFAULT_TRANSCRIPT_VERSION,
    show_default=True,
)
@json_option
@click.pass_context
def queue(
    ctx: click.Context,
    lea: str,
    connection: str,
    students: tuple[str, ...],
    students_file: TextIO | None,
    cohort_year: int | None,
    purpose: str,
    legal_basis: str,
    pesc_version: str,
    as_json: bool,
) -> None:
    """Queue a batch: a list of students, or a whole cohort, to one outgoing connection.

    Students on hold are not released (their lines fail with reason "hold" and the request
    is recorded in the district's disclosure log).
    """
    request = BatchRequest(
        connection=connection,
        student_ids=_ids(students, students_file),
        cohort_year=cohort_year,
        purpose=purpose,
        legal_basis=legal_basis,
        pesc_version=pesc_version,
    )

    async def go() -> dict[str, Any]:
        settings = await resolved(state(ctx).settings)
        async with (
            district_stores(settings, lea) as (stores, district),
            control_connection(settings) as conn,
        ):
            return await queue_batch(conn, stores, district, request, cli_actor())

    batch = run(go())
    emit(batch if as_json else _queued_view(batch), as_json=as_json)
    if not as_json:
        click.echo(
            f"\nQueued batch {batch['batch_id']} ({batch['item_count']} students)."
            f" Follow it: gateway release status {batch['batch_id']} --watch",
            err=True,
        )


@release.command("list")
@click.option("--district", "lea", help="Only this district's batches.")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@click.pass_context
def list_command(ctx: click.Context, lea: str | None, limit: int, as_json: bool) -> None:
    """Batches, newest first, with their counts."""
    rows = on_control(ctx, lambda conn, _s: list_batches(conn, lea_code=lea, limit=limit))
    emit(rows, as_json=as_json, columns=LIST_COLUMNS, title="Release batches")


async def _watch(conn: asyncpg.Connection, batch_id: int, interval: float) -> BatchReport:
    report = await load_report(conn, batch_id)
    with progress(f"Batch {batch_id}", report.total) as bar:
        while True:
            bar.update(report.done, report.total)
            if report.finished:
                return report
            await asyncio.sleep(interval)
            report = await load_report(conn, batch_id)


@release.command("status")
@click.argument("batch_id", type=int)
@click.option("--watch", is_flag=True, help="Show a progress bar until the batch finishes.")
@click.option("--interval", type=click.FloatRange(0.05, 60), default=1.0, show_default=True)
@json_option
@click.pass_context
def status(ctx: click.Context, batch_id: int, watch: bool, interval: float, as_json: bool) -> None:
    """A batch's state and its counts by status (queued, in progress, delivered, failed)."""

    async def go(conn: asyncpg.Connection, _settings: Any) -> BatchReport:
        if watch:
            return await _watch(conn, batch_id, interval)
        return await load_report(conn, batch_id)

    report = on_control(ctx, go)
    if as_json:
        emit_json(report.summary())
    else:
        emit(_status_view(report), as_json=False)


@release.command("report")
@click.argument("batch_id", type=int)
@click.option("--csv", "as_csv", is_flag=True, help="CSV, one line per student, for spreadsheets.")
@json_option
@click.pass_context
def report_command(ctx: click.Context, batch_id: int, as_csv: bool, as_json: bool) -> None:
    """The eTranscript Batch Report: counts, then one line per student (status, attempts,
    the vendor's reference or the error, and when)."""
    if as_json and as_csv:
        raise click.UsageError("choose one of --json and --csv")
    report = on_control(ctx, lambda conn, _s: load_report(conn, batch_id))
    if as_csv:
        sys.stdout.write(report.csv_text())
    elif as_json:
        emit_json(report.as_dict())
    else:
        emit(_status_view(report), as_json=False)
        click.echo()
        lines = [
            {**vars(line), "error": line.error if line.status != "delivered" else None}
            for line in report.lines
        ]
        emit(lines, as_json=False, columns=LINE_COLUMNS, title=f"Batch {batch_id}")


@click.command("worker")
@click.option("--concurrency", type=click.IntRange(1, 64), default=4, show_default=True)
@click.option(
    "--lease",
    "lease_seconds",
    type=click.FloatRange(0.5, 3600),
    default=120.0,
    show_default=True,
    help="Seconds an item stays with this worker; after that another worker takes it back.",
)
@click.option(
    "--idle-poll",
    type=click.FloatRange(0.01, 60),
    default=1.0,
    show_default=True,
    help="Seconds between looks at an empty queue.",
)
@click.option("--max-attempts", type=click.IntRange(1, 100), default=5, show_default=True)
@click.option(
    "--backoff",
    type=click.FloatRange(0, 3600),
    default=2.0,
    show_default=True,
    help="Seconds before the first retry; doubled each time, with jitter.",
)
@click.option("--backoff-max", type=click.FloatRange(0, 86400), default=300.0, show_default=True)
@click.option("--connect-timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True)
@click.option("--read-timeout", type=click.FloatRange(0.1, 600), default=20.0, show_default=True)
@click.option("--exit-when-idle", is_flag=True, help="Stop once nothing is queued or in progress.")
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    help="Serve /metrics and /healthz on this port (GATEWAY_WORKER_METRICS_PORT; default: "
    "off; 0 picks a free one).",
)
@click.option(
    "--metrics-host",
    help="Address of that listener (GATEWAY_METRICS_HOST, default 127.0.0.1).",
)
@click.pass_context
def worker(
    ctx: click.Context,
    concurrency: int,
    lease_seconds: float,
    idle_poll: float,
    max_attempts: int,
    backoff: float,
    backoff_max: float,
    connect_timeout: float,
    read_timeout: float,
    exit_when_idle: bool,
    metrics_port: int | None,
    metrics_host: str | None,
) -> None:
    """Deliver queued batch items to the vendors until stopped (SIGTERM or Ctrl+C finish the
    items in hand first).

    \b
    Run as many as you like, on any machines that reach the database: each item goes to one
    worker, and the items of a worker that dies return to the queue when their lease ends.
    The lease must outlast one attempt (a token and an upload, twice after an expired
    token): keep it above 4 x (connect timeout + read timeout).

    \b
    With --metrics-port (or GATEWAY_WORKER_METRICS_PORT) it answers, on loopback unless
    --metrics-host says otherwise:
      /healthz   200 while its loop runs and the database answers, else 503 and why
      /metrics   queue depth and oldest age by state, delivery outcomes, vendor latency,
                 disclosures written, gateway_build_info (GATEWAY_METRICS_TOKEN applies)
    Example (a liveness probe, then a scrape):
      gateway worker --metrics-port 9101
      curl -fsS http://127.0.0.1:9101/healthz
    """
    if backoff_max < backoff:
        raise click.UsageError("--backoff-max must be at least --backoff")
    configured = state(ctx).settings
    port = configured.worker_metrics_port if metrics_port is None else metrics_port
    # Bound before anything else, so that a port in use fails at once (and 0 is resolved).
    sock = None if port is None else bind(metrics_host or configured.metrics_host, port)

    async def go() -> None:
        settings = await resolved(configured)
        configure_logging(settings)
        config = release_worker_config(
            settings,
            concurrency=concurrency,
            lease_seconds=lease_seconds,
            idle_poll_seconds=idle_poll,
            retry=RetryPolicy(max_attempts, backoff, backoff_max),
            timeouts=Timeouts(connect=connect_timeout, read=read_timeout),
            exit_when_idle=exit_when_idle,
        )
        # One connection per slot, one for the sweeper, one for token secrets.
        stores = StoreRegistry(store_urls(settings), min_size=1, max_size=concurrency + 2)
        await stores.open()
        try:
            releaser = Worker(stores, settings.master_keys, config)
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, releaser.request_stop)
            click.echo(f"release worker {releaser.name} started", err=True)
            if sock is None:
                await releaser.run()
            else:
                await _run_with_monitor(settings, releaser, stores, sock)
        finally:
            await stores.close()

    run(go())


async def _run_with_monitor(
    settings: Settings, releaser: Worker, stores: StoreRegistry, sock: socket.socket
) -> None:
    """The worker and its /metrics + /healthz listener in one loop; the listener stops after
    the worker (so a probe sees 'stopping' while the items in hand settle)."""
    # Here, not at the top: `gateway release ...` need not load uvicorn to start.
    from gateway import monitor
    from gateway.outgoing.health import WorkerHealth

    health = WorkerHealth(releaser, stores)
    app = monitor.monitor_app(settings, None, health=health.check, refresh=health.refresh_queue)
    host, port = sock.getsockname()[:2]
    click.echo(f"release worker metrics and health on http://{host}:{port}/", err=True)
    done = asyncio.Event()
    listening = asyncio.create_task(monitor.serve(app, sock, done))
    try:
        await releaser.run()
    finally:
        done.set()
        await listening


COMMANDS = [release, worker]
