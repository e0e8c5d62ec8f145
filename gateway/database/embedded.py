"""The embedded PostgreSQL server (pgserver) that `gateway dev` and the tests run on.

pgserver keeps one postmaster per data directory and a list of the processes holding it; the
last holder to exit stops the server. Two things it does not do, which we add here:

* prune holders that died without exiting cleanly (SIGKILL), or the server would never stop;
* stop on SIGTERM: Python's default SIGTERM ends the process without running `atexit`, which
  would leave the postmaster running, so `install_signal_handlers` turns SIGTERM into SystemExit.

And two things for `gateway dev` (issue 12): a server that was already running when we joined
it (started by hand, or left by a process that died) is left running on exit, since it is not
ours to stop; and `Watchdog` notices when the postmaster dies while we serve, restarts the one
we started, and otherwise says so, so that dev does not go on answering 500s.

pgserver and psutil belong to the `dev` extra (pgserver has no wheel for every Python the
gateway runs on), so both load only when an embedded server is started: `gateway serve` and
the production image never import them.
"""

from __future__ import annotations

import json
import signal
import threading
import warnings
from collections.abc import Callable
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
    started_here: bool = True  # False: it was running already, and is left running on exit

    def url(self, user: str = SUPERUSER, database: str = "postgres") -> str:
        return f"postgresql://{user}@/{database}?host={self.socket_dir}"

    def postmaster_alive(self) -> bool:
        return _running_postmaster(self.pgdata) is not None

    def restart(self) -> None:
        """Start the postmaster again on the same data directory and socket directory."""
        with self.handle._lock:  # pgserver's inter-process lock around start and stop
            self.handle.ensure_postgres_running()
        info = self.handle.get_postmaster_info()
        if info.socket_dir is None or Path(info.socket_dir) != self.socket_dir:
            raise ConfigurationError("the restarted PostgreSQL listens on another socket")


def _running_postmaster(pgdata: Path) -> int | None:
    """The pid of the postmaster running on `pgdata`, if one is."""
    try:
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    import psutil  # the dev extra; see the module's docstring

    try:
        return pid if psutil.Process(pid).is_running() else None
    except psutil.Error:
        return None


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


_JOINED: dict[Path, EmbeddedServer] = {}  # by pgdata: one join per process


def start_embedded(home: Path) -> EmbeddedServer:
    """Start (or join) the embedded server under `home/pgdata`; reused across runs. A second
    call in the same process returns the first one's server."""
    home = home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    pgdata = home / "pgdata"
    if pgdata in _JOINED and _JOINED[pgdata].postmaster_alive():
        return _JOINED[pgdata]
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
    # Running already and nobody (alive) holds it: someone else started it; leave it alone.
    started_here = _running_postmaster(pgdata) is None or _holders(pgdata) != []
    try:
        handle = get_server(pgdata, cleanup_mode="stop" if started_here else None)
    except Exception as exc:  # pgserver raises bare subprocess errors; say what to look at
        raise ConfigurationError(
            f"the embedded PostgreSQL under {pgdata} did not start: {exc}; see {pgdata / 'log'}"
        ) from exc
    info = handle.get_postmaster_info()
    if info.socket_dir is None:
        raise ConfigurationError("the embedded PostgreSQL reported no socket directory")
    server = EmbeddedServer(
        pgdata=pgdata, socket_dir=Path(info.socket_dir), handle=handle, started_here=started_here
    )
    _JOINED[pgdata] = server
    return server


def _holders(pgdata: Path) -> list[int]:
    try:
        pids = json.loads((pgdata / ".handle_pids.json").read_text())
    except (OSError, ValueError):
        return []
    return [pid for pid in pids if isinstance(pid, int)] if isinstance(pids, list) else []


_RESTART_TRIES = 5


class Watchdog:
    """Checks every `interval` seconds that the postmaster is alive. When it is not: the one we
    started is started again (`on_restart`); if that fails, or it was not ours, `on_gone` is
    told why (and the watchdog stops)."""

    def __init__(
        self,
        server: EmbeddedServer,
        *,
        on_gone: Callable[[str], None],
        on_restart: Callable[[], None] = lambda: None,
        interval: float = 2.0,
    ) -> None:
        self._server = server
        self._on_gone = on_gone
        self._on_restart = on_restart
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="postgres-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            # Bounded: a check in flight ends within one interval; a restart under way may not.
            self._thread.join(timeout=self._interval + 1.0)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            if self._server.postmaster_alive():
                continue
            if not self._server.started_here:
                self._on_gone(f"the PostgreSQL on {self._server.pgdata} stopped (not started here)")
                return
            error: Exception | None = None
            for _ in range(_RESTART_TRIES):
                # A killed postmaster's backends take a moment to go; until then it cannot start.
                try:
                    self._server.restart()
                    error = None
                    break
                except Exception as exc:  # pgserver raises bare subprocess errors
                    error = exc
                    if self._stop.wait(self._interval):
                        return
            if error is not None:
                self._on_gone(
                    f"the embedded PostgreSQL on {self._server.pgdata} stopped and did not start"
                    f" again ({type(error).__name__}; see {self._server.pgdata / 'log'})"
                )
                return
            self._on_restart()


def _raise_system_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def install_signal_handlers() -> None:
    """Make SIGTERM (and SIGHUP) exit through Python so atexit stops the embedded server."""
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_system_exit)
