"""Running wrk (the load generator) and reading what it measured."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.errors import BenchError

LUA_SCRIPT = Path(__file__).resolve().parent / "lua" / "requests.lua"
_MARKER = "BENCH_RESULT "


@dataclass(frozen=True)
class LoadShape:
    """How hard wrk pushes: the same for every scenario of a run."""

    threads: int = 2
    connections: int = 64
    timeout_s: int = 2

    def args(self, duration_s: float) -> list[str]:
        return [
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{max(1, round(duration_s))}s",
            f"--timeout={self.timeout_s}s",
            "--latency",
        ]

    def command(self, duration_s: float) -> str:
        """The command line as a reader would type it (for reports)."""
        return "wrk " + " ".join(self.args(duration_s))


@dataclass(frozen=True)
class WrkResult:
    requests: int
    duration_s: float
    errors: dict[str, int]  # connect, read, write, status (>= 400), timeout
    latency_us: dict[str, float]  # min, mean, stdev, max, p50, p75, p90, p99, p999

    @property
    def rps(self) -> float:
        return self.requests / self.duration_s if self.duration_s else 0.0

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_version() -> str:
    # `wrk -v` prints its version and usage, and exits 1.
    done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10, check=False)
    first = (done.stdout or done.stderr).splitlines()
    return first[0].strip() if first else "unknown"


def parse(output: str) -> WrkResult:
    """Read the BENCH_RESULT line that lua/requests.lua prints in done()."""
    for line in output.splitlines():
        if line.startswith(_MARKER):
            raw: dict[str, Any] = json.loads(line[len(_MARKER) :])
            return WrkResult(
                requests=int(raw["requests"]),
                duration_s=raw["duration_us"] / 1e6,
                errors={k: int(v) for k, v in raw["errors"].items()},
                latency_us={k: float(v) for k, v in raw["latency_us"].items()},
            )
    raise BenchError("wrk printed no BENCH_RESULT line:\n" + output[-2000:])


def run_wrk(
    url: str, requests_file: Path, duration_s: float, shape: LoadShape, log: Path | None = None
) -> WrkResult:
    """Drive `url` with the requests in `requests_file` for `duration_s` seconds."""
    command = ["wrk", *shape.args(duration_s), "-s", str(LUA_SCRIPT), url]
    env = {**os.environ, "BENCH_REQUESTS": str(requests_file)}
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=env,
            timeout=duration_s + shape.timeout_s + 30,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk did not finish in time: {' '.join(command)}") from exc
    if log is not None:
        with log.open("a", encoding="utf-8") as out:
            out.write(f"$ BENCH_REQUESTS={requests_file} {' '.join(command)}\n")
            out.write(done.stdout + done.stderr + "\n")
    if done.returncode != 0:
        raise BenchError(f"wrk failed ({done.returncode}): {done.stderr.strip()[-1000:]}")
    return parse(done.stdout)
