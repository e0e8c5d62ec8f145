"""Getting the database ready through the operator's own CLI: migrate, seed, districts,
a consumer and its credentials.

Every step calls `gateway ...` with the same environment as `gateway serve`, so the harness
exercises the commands an operator runs. What is slow or shown once (seeded data, client
secrets) is remembered in `HOME/bench-state.json`, so `--home DIR` reuses it on the next run.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench.errors import BenchError

CONSUMER = "BENCH"
_CLI_TIMEOUT_S = 120


@dataclass(frozen=True)
class Credential:
    """A consumer key/secret pair and the district (LEA code) its tokens read."""

    client_id: str
    client_secret: str = field(repr=False)
    district: str


@dataclass(frozen=True)
class Seeded:
    districts: int
    students: int  # per district


@dataclass
class State:
    """What a home folder already holds. Benchmark-only secrets of a throwaway database,
    kept so that a reused home need not issue them again (file mode 0600)."""

    path: Path
    master_key: str
    credentials: list[Credential] = field(default_factory=list)
    seeded: Seeded | None = None

    @classmethod
    def load(cls, path: Path, new_master_key: str) -> State:
        if not path.exists():
            state = cls(path=path, master_key=new_master_key)
            state.save()
            return state
        raw = json.loads(path.read_text(encoding="utf-8"))
        seeded = raw.get("seeded")
        return cls(
            path=path,
            master_key=raw["master_key"],
            credentials=[Credential(**c) for c in raw.get("credentials", [])],
            seeded=Seeded(**seeded) if seeded else None,
        )

    def save(self) -> None:
        body = {
            "master_key": self.master_key,
            "credentials": [asdict(c) for c in self.credentials],
            "seeded": asdict(self.seeded) if self.seeded else None,
        }
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(body, out, indent=2)


@dataclass(frozen=True)
class GatewayCli:
    """`gateway ...` in a subprocess with the benchmark's environment; output goes to `log`."""

    env: Mapping[str, str]
    cwd: Path
    log: Path

    def run(self, *args: str, timeout: float = _CLI_TIMEOUT_S) -> str:
        command = ["gateway", *args]
        try:
            done = subprocess.run(
                command,
                env=dict(self.env),
                cwd=self.cwd,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise BenchError(f"`{' '.join(command)}` did not finish in {timeout:.0f} s") from exc
        with self.log.open("a", encoding="utf-8") as out:
            # stdout is not logged: `credential issue` prints a client secret there.
            out.write(f"$ {' '.join(command)}  -> exit {done.returncode}\n{done.stderr}\n")
        if done.returncode != 0:
            raise BenchError(
                f"`{' '.join(command)}` failed ({done.returncode}): {done.stderr.strip()[-1500:]}"
            )
        return done.stdout

    def json(self, *args: str, timeout: float = _CLI_TIMEOUT_S) -> Any:
        return json.loads(self.run(*args, "--json", timeout=timeout))

    def has(self, *command: str) -> bool:
        """Whether `gateway COMMAND --help` succeeds (a command still being written may not)."""
        try:
            self.run(*command, "--help", timeout=30)
        except BenchError:
            return False
        return True


def migrate(cli: GatewayCli) -> None:
    cli.run("migrate", timeout=300)


def seed(cli: GatewayCli, state: State, wanted: Seeded, timeout_s: float) -> float | None:
    """Load synthetic districts with `gateway seed` unless the home already holds as many.

    Returns the seconds it took, or None when the home was already seeded."""
    have = state.seeded
    if have and have.districts >= wanted.districts and have.students == wanted.students:
        return None
    started = time.monotonic()
    cli.run(
        "seed",
        "--districts",
        str(wanted.districts),
        "--students",
        str(wanted.students),
        timeout=timeout_s,
    )
    state.seeded = wanted
    state.save()
    return time.monotonic() - started


def registered_districts(cli: GatewayCli) -> list[str]:
    """Active districts' LEA codes, in the order `gateway district list` gives (by code)."""
    rows = cli.json("district", "list")
    return [r["lea_code"] for r in rows if r.get("status") == "active"]


def add_districts(cli: GatewayCli, count: int) -> list[str]:
    """Register the state's first `count` districts with `gateway district add` (those not yet
    registered), as `gateway seed` would name them. For runs without seeded data."""
    from tenants.synthetic.generator import district_plans

    have = set(registered_districts(cli))
    for plan in district_plans(count):
        if plan.lea_code not in have:
            cli.run(
                "district", "add", "--lea", plan.lea_code, "--name", plan.name, "--kind", plan.kind
            )
    return [p.lea_code for p in district_plans(count)]


def ensure_consumer(cli: GatewayCli, name: str = CONSUMER) -> None:
    if not any(row["name"] == name for row in cli.json("consumer", "list")):
        cli.run("consumer", "add", "--name", name, "--description", "bench/run load tests")


def issue_credentials(
    cli: GatewayCli, state: State, districts: Sequence[str], consumer: str = CONSUMER
) -> list[Credential]:
    """One credential for each of `districts`, reusing those the state already holds."""
    held = {c.district: c for c in state.credentials}
    missing = [lea for lea in districts if lea not in held]

    def issue(lea: str) -> Credential:
        info = cli.json(
            "credential", "issue", "--district", lea, "--consumer", consumer, "--name", "bench"
        )
        return Credential(info["client_id"], info["client_secret"], lea)

    with ThreadPoolExecutor(max_workers=2) as pool:
        for credential in pool.map(issue, missing):
            held[credential.district] = credential
    state.credentials = list(held.values())
    state.save()
    return [held[lea] for lea in districts]
