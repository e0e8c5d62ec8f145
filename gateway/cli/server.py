"""`gateway dev` (everything on one machine) and `gateway serve` (production)."""

from __future__ import annotations

import os
import shutil
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from gateway.cli.context import run, state
from gateway.database.embedded import install_signal_handlers
from gateway.database.migrations import CONTROL, DISTRICT, pending
from gateway.errors import ConfigurationError
from gateway.logging import configure_logging
from gateway.settings import Settings, parse_forwarded_allow_ips

if TYPE_CHECKING:
    import uvicorn

    from gateway.cli.devsetup import DevEnvironment
    from gateway.database.embedded import Watchdog

# uvicorn, the app and the demo seeding load only for the commands that serve, so that
# operator commands (`gateway credential list`) start quickly.


def uvicorn_options(settings: Settings) -> dict[str, object]:
    """What `gateway dev` and `gateway serve` both tell uvicorn."""
    trusted = ",".join(settings.forwarded_allow_ips)
    return {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,  # our structlog configuration owns the loggers
        "access_log": False,  # the edge middleware logs each request without raw paths
        "server_header": False,
        "ws": "none",  # nothing is served over websockets
        # X-Forwarded-For/-Proto only from the configured proxies; with none configured,
        # uvicorn's default (trust 127.0.0.1) would let any local process pick the address
        # that lockout and the audit log record.
        "proxy_headers": bool(trusted),
        "forwarded_allow_ips": trusted or None,
        # A request that never ends cannot hold shutdown (SIGTERM) forever.
        "timeout_graceful_shutdown": int(settings.shutdown_timeout_seconds),
    }


def banner(env: DevEnvironment) -> str:
    base = env.settings.base_url
    lines = [
        "",
        "eTranscript gateway (dev) is running",
        f"  embedded PostgreSQL   {env.pgdata}",
        f"  gateway               {base}/",
        f"  readiness             {base}/readyz",
        f"  metrics               {metrics_url(env.settings)}",
        f"  demo credentials      {env.demo_file}",
    ]
    lines += [f"  {label:<21} {value}" for label, value in env.extra_lines]
    lines += ["", "Try:", *(f"  {cmd}" for cmd in env.try_commands), "", "Press Ctrl+C to stop."]
    return "\n".join(lines)


@click.command("dev")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    help="Port on 127.0.0.1 (GATEWAY_PORT, default 8000; 0 picks a free one).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--no-seed", is_flag=True, help="Start without loading the demo districts.")
@click.pass_context
def dev(ctx: click.Context, port: int | None, host: str, no_seed: bool) -> None:
    """Run everything on this machine: embedded PostgreSQL, migrations, demo data, server.

    \b
    The embedded database lives in --home (default ./.gateway) and is reused across runs;
    it stops when this command stops (Ctrl+C or SIGTERM). Demo districts, students and a
    consumer called CFNC with one credential per district are created on first start, and
    DIR/demo-credentials.json says how to call the API with them.

    \b
    The address it binds is recorded in DIR/served.json, so that the URLs other commands
    print for this home (`gateway credential issue --home DIR ...`) are the ones that answer;
    GATEWAY_BASE_URL, when set, is the address handed out instead.

    \b
    Examples:
      gateway dev
      gateway dev --home /tmp/gw --port 18431
    """
    import uvicorn

    from gateway.app import create_app
    from gateway.cli.devsetup import prepare_dev
    from gateway.database.served import base_url_for, record_base_url

    install_signal_handlers()
    settings = state(ctx).settings
    # Bound first, so that the URLs written to the demo file and printed are those of a socket
    # that really listens (and a port in use fails before anything else is done).
    sock = bind(host, settings.port if port is None else port)
    bound = sock.getsockname()[1]
    base_url = settings.base_url if settings.base_url_configured else base_url_for(host, bound)
    settings = replace(settings, host=host, port=bound, base_url=base_url)
    env = run(prepare_dev(settings, with_demo=not no_seed))
    record_base_url(settings.home, base_url)
    configure_logging(env.settings)
    click.echo(banner(env), err=True)
    app = create_app(env.settings, run_worker=True)  # batch releases run inside `dev` too
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(env.settings)))  # type: ignore[arg-type]
    failures: list[str] = []
    watchdog = _watch_postgres(settings, server, failures) if settings.embedded else None
    try:
        with metrics_listener(env.settings, None):
            server.run(sockets=[sock])
    finally:
        # uvicorn re-raises SIGTERM after its graceful shutdown (SystemExit, through our
        # handler): the watchdog must stop before atexit stops PostgreSQL, or it would see the
        # postmaster go and start it again while the process is exiting.
        if watchdog is not None:
            watchdog.stop()
    if failures:
        raise click.ClickException(f"{failures[0]}; stopped serving")


def _watch_postgres(settings: Settings, server: uvicorn.Server, failures: list[str]) -> Watchdog:
    """Restart the embedded PostgreSQL if it dies; if it cannot be (or it is not ours), stop
    serving and say why in `failures`, rather than answer 500s."""
    from gateway.database.embedded import Watchdog, start_embedded

    def gone(message: str) -> None:
        failures.append(message)
        server.should_exit = True

    def restarted() -> None:
        click.echo("gateway dev: the embedded PostgreSQL stopped; started it again", err=True)

    watchdog = Watchdog(start_embedded(settings.home), on_gone=gone, on_restart=restarted)
    watchdog.start()
    return watchdog


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on host:port, or a clear error (port in use, bad address)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            "choose another port with --port N (0 picks a free one)"
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


@click.command("serve")
@click.option("--host", help="Address to listen on (GATEWAY_HOST, default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (GATEWAY_PORT, default 8000).")
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (GATEWAY_WORKERS).")
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve /metrics on this port only, not on the public one (GATEWAY_METRICS_PORT).",
)
@click.option(
    "--metrics-host",
    help="Address of the metrics port (GATEWAY_METRICS_HOST, default 127.0.0.1).",
)
@click.option(
    "--forwarded-allow-ips",
    metavar="IPS",
    help="Comma-separated addresses or networks of the TLS proxies whose X-Forwarded-For "
    "is trusted (GATEWAY_FORWARDED_ALLOW_IPS or FORWARDED_ALLOW_IPS; default: none).",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str | None,
    port: int | None,
    workers: int | None,
    metrics_port: int | None,
    metrics_host: str | None,
    forwarded_allow_ips: str | None,
) -> None:
    """Serve in production: uvicorn with worker processes on a configured database.

    \b
    Needs GATEWAY_DATABASE_URL (the application role) and, with GATEWAY_ENV=production,
    GATEWAY_MASTER_KEY and an https GATEWAY_BASE_URL. Run `gateway migrate` first: serve
    refuses to start on a database with pending migrations.

    \b
    It listens on 127.0.0.1 unless told otherwise. Behind a TLS proxy, name the proxy:
      gateway serve --host 0.0.0.0 --forwarded-allow-ips 10.0.0.5
    Only then are its X-Forwarded-For and X-Forwarded-Proto believed; from any other peer
    they are ignored, and lockout and the audit log see the peer's own address.

    \b
    /metrics (Prometheus, summed over every worker) is on the public port unless a port of
    its own is named; that listener binds loopback unless --metrics-host says otherwise:
      gateway serve --workers 2 --metrics-port 9100
      curl -fsS http://127.0.0.1:9100/metrics
    GATEWAY_METRICS_TOKEN, when set, is required on either.
    """
    import uvicorn

    settings = state(ctx).settings
    settings = replace(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        metrics_port=metrics_port or settings.metrics_port,
        metrics_host=metrics_host or settings.metrics_host,
    )
    if forwarded_allow_ips is not None:
        try:
            trusted = parse_forwarded_allow_ips(forwarded_allow_ips, "--forwarded-allow-ips")
        except ConfigurationError as exc:
            raise click.BadParameter(str(exc), param_hint="--forwarded-allow-ips") from exc
        settings = replace(settings, forwarded_allow_ips=trusted)
    if settings.env == "production":
        try:
            settings.require_production()
        except ConfigurationError as exc:
            raise click.ClickException(str(exc)) from exc
    if settings.database_url is None:
        raise click.ClickException(
            "gateway serve needs GATEWAY_DATABASE_URL; for a local run use `gateway dev`"
        )
    waiting = run(pending(str(settings.database_url), [CONTROL, DISTRICT]))
    if waiting:
        names = ", ".join(f"{m.stream}/{m.version:04d}_{m.name}" for m in waiting)
        raise click.ClickException(
            f"the database has pending migrations ({names}): run `gateway migrate`"
        )
    if not settings.base_url_configured:
        # Outside production (which requires GATEWAY_BASE_URL) the URLs handed out are those of
        # the socket served; the workers read their settings from this environment.
        from gateway.database.served import base_url_for

        settings = replace(settings, base_url=base_url_for(settings.host, settings.port))
        os.environ["GATEWAY_BASE_URL"] = settings.base_url
    if settings.metrics_port is not None:
        # The workers read their settings from this environment: none serves /metrics.
        os.environ["GATEWAY_METRICS_PORT"] = str(settings.metrics_port)
    configure_logging(settings)
    made_metrics_dir = None
    if settings.workers > 1 and not settings.metrics_multiproc_dir:
        # Workers are spawned after this, so they see it; /metrics then sums every worker.
        made_metrics_dir = tempfile.mkdtemp(prefix="gateway-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = made_metrics_dir
    click.echo(
        f"gateway serving on http://{settings.host}:{settings.port} "
        f"({settings.workers} worker{'s' if settings.workers > 1 else ''}); "
        f"public address {settings.base_url}",
        err=True,
    )
    multiproc_dir = made_metrics_dir or settings.metrics_multiproc_dir
    try:
        with metrics_listener(settings, multiproc_dir):
            uvicorn.run(
                "gateway.asgi:app_factory",
                factory=True,
                workers=settings.workers,
                **uvicorn_options(settings),  # type: ignore[arg-type]
            )
    finally:
        if made_metrics_dir is not None:
            shutil.rmtree(made_metrics_dir, ignore_errors=True)
    sys.exit(0)


def metrics_url(settings: Settings) -> str:
    if settings.metrics_port is None:
        return f"{settings.base_url}/metrics"
    return f"http://{settings.metrics_host}:{settings.metrics_port}/metrics"


@contextmanager
def metrics_listener(settings: Settings, multiproc_dir: str | None) -> Iterator[None]:
    """/metrics on GATEWAY_METRICS_PORT, from a thread of this process, while the block runs.

    This process is the app itself with one worker, and uvicorn's supervisor with several:
    then `multiproc_dir` holds every worker's values and the answer sums them.
    """
    if settings.metrics_port is None:
        yield
        return
    from gateway import monitor

    sock = bind(settings.metrics_host, settings.metrics_port)
    listener = monitor.in_thread(monitor.monitor_app(settings, multiproc_dir), sock)
    click.echo(f"metrics on {metrics_url(settings)}", err=True)
    try:
        yield
    finally:
        listener.stop()
        sock.close()


@click.command("openapi")
@click.option("--base-url", help="Public address the document names (GATEWAY_BASE_URL).")
@click.pass_context
def openapi_command(ctx: click.Context, base_url: str | None) -> None:
    """Print the OpenAPI 3.1 document the gateway serves at /openapi.json (for linters and
    client generators: scripts/lint-openapi runs Redocly's recommended rules over it)."""
    import json

    from gateway.app import openapi_document

    issuer = (base_url or state(ctx).settings.issuer).rstrip("/")
    click.echo(json.dumps(openapi_document(issuer), indent=2))


COMMANDS = [dev, serve, openapi_command]
