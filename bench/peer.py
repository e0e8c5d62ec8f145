"""The peer of `token_basic`: node oidc-provider, one process, one client-credentials client,
ES256 JWT access tokens (bench/peer/server.mjs).

oidc-provider comes from the npm registry, installed with `npm install` into
bench/peer/node_modules (git-ignored, never committed) the first time a run needs it. Without
node or npm the scenario is skipped, saying which is missing.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.errors import BenchError
from bench.server import HOST, free_port

PEER_DIR = Path(__file__).resolve().parent / "peer"


class PeerUnavailable(Exception):
    """Why the peer cannot run here (a reason for `skipped`)."""


def install(log: Path) -> None:
    """`npm install` oidc-provider into bench/peer/node_modules, unless it is there."""
    if shutil.which("node") is None:
        raise PeerUnavailable("node is not installed (apt-get install nodejs npm)")
    if (PEER_DIR / "node_modules" / "oidc-provider" / "package.json").exists():
        return
    if shutil.which("npm") is None:
        raise PeerUnavailable("npm is not installed (apt-get install npm)")
    command = ["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"]
    done = subprocess.run(
        command, cwd=PEER_DIR, capture_output=True, text=True, timeout=600, check=False
    )
    with log.open("a", encoding="utf-8") as out:
        out.write(f"$ (cd {PEER_DIR} && {' '.join(command)}) -> {done.returncode}\n")
        out.write(done.stdout + done.stderr + "\n")
    if done.returncode != 0:
        raise PeerUnavailable(f"npm install oidc-provider failed: {done.stderr.strip()[-300:]}")


@dataclass
class PeerServer:
    """`node server.mjs` on a free loopback port, in a process group of its own."""

    log: Path
    client_id: str = "bench-peer"
    client_secret: str = ""

    def __post_init__(self) -> None:
        self.client_secret = self.client_secret or secrets.token_urlsafe(32)
        self.port = free_port()
        self.base_url = f"http://{HOST}:{self.port}"
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                ["node", "server.mjs", str(self.port), self.client_id, self.client_secret],
                cwd=PEER_DIR,
                env={**os.environ, "NODE_ENV": "production"},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout_s: float = 60.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if self.process.poll() is not None:
                raise BenchError(f"oidc-provider exited: {self.log.read_text()[-1500:]}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                conn = http.client.HTTPConnection(HOST, self.port, timeout=2)
                try:
                    conn.request("GET", "/.well-known/openid-configuration")
                    if conn.getresponse().status == 200:
                        return time.monotonic() - started
                finally:
                    conn.close()
            time.sleep(0.2)
        raise BenchError(f"oidc-provider was not ready in {timeout_s:.0f} s")

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def __enter__(self) -> PeerServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()
