"""The embedded PostgreSQL server (pgserver) that `gateway dev` and the tests run on.

pgserver keeps one postmaster per data directory and a list of the processes holding it; the
last holder to exit stops the server. Two things it does not do, which we add here:

* prune holders that died without exiting cleanly (SIGKILL), or the server would never stop;
* stop on SIGTERM: Python's default SIGTERM ends the process without running `atexit`, which
  would leave the postmaster running, so `install_signal_handlers` turns SIGTERM into SystemExit.

pgserver and psutil belong to the `dev` extra (pgserver has no wheel for every Python the
gateway runs on), so both load only when an embedded server is started: `gateway serve` and
the production image never import them.
"""

from __future__ import annotations

import json
import signal
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from gateway.errors import ConfigurationError

SUPERUSER = "postgres"


@dataclass(frozen=True)
class EmbeddedServer:
    """A running embedded cluster, reachable on a Unix socket only."""

    pgdata: Path
    socket_dir: Path
    handle: Any  # pgserver.PostgresServer; kept so its atexit hook stops the server

    def url(self, user: str = SUPERUSER, database: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"


def _prune_dead_holders(pgdata: Path) -> None:
    pids_file = pgdata / ".handle_pids.json"
    if not pids_file.exists():
        return
    try:
        pids = json.loads(pids_file.read_text())
    except (OSError, ValueError):
        pids = []
    import psutil

    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        pids_file.write_text(json.dumps(alive))


def start_embedded(home: Path) -> EmbeddedServer:
    """Start (or join) the embedded server under `home/pgdata`; reused across runs."""
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = home / "pgdata"
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; pgserver then uses /tmp, which is fine.
        warnings.simplefilter("ignore")
        try:
            from pgserver.postgres_server import get_server
        except ImportError as exc:
            raise ConfigurationError(
                "the embedded PostgreSQL needs the dev extra (pip install 'etranscript-gateway[dev]'); "
                "or set GATEWAY_DATABASE_URL to a PostgreSQL server"
            ) from exc

    pgdata.mkdir(exist_ok=True)
    _prune_dead_holders(pgdata)
    try:
        handle = get_server(pgdata, cleanup_mode="stop")
    except Exception as exc:  # pgserver raises bare subprocess errors; say what to look at
        raise ConfigurationError(
            f"the embedded PostgreSQL under {pgdata} did not start: {exc}; see {pgdata / 'log'}"
        ) from exc
    info = handle.get_postmaster_info()
    if info.socket_dir is None:
        raise ConfigurationError("the embedded PostgreSQL reported no socket directory")
    return EmbeddedServer(pgdata=pgdata, socket_dir=Path(info.socket_dir), handle=handle)


def _raise_system_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """Make SIGTERM (and SIGHUP) exit through Python so atexit stops the embedded server."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_system_exit)
