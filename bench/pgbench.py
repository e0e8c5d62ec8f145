"""The database floor of a transcript: pgbench running exactly the gateway's SQL.

One pgbench transaction is what `GET .../etranscripts/{student_id}` sends to PostgreSQL, taken
from the gateway's own modules so that the two cannot drift apart:

1. BEGIN READ WRITE and the district setting (one simple query in the gateway, here a
   pipeline of two prepared statements: still one round trip). The gateway sends
   `SET LOCAL app.district_id` inside a DO block (`tenants.transaction.begin_statement`, for
   Citus), which takes no bind parameter; the floor sets the same transaction-local setting
   with `set_config(..., true)`, the same effect on one PostgreSQL and a little cheaper than
   the DO block, so the floor errs on the fast side;
2. `tenants.queries.transcripts`' student record read (the JSON-aggregating query), prepared;
3. `tenants.queries.disclosures`' disclosure INSERT, prepared;
4. COMMIT.

It connects as the application role (row-level security applies, as for the gateway), with
the same number of connections as wrk's, over random students of the credentialed districts.
The one addition is the pick itself: a primary-key read of `bench_picks` (a small table the
harness fills) before each transaction, which the gateway does not pay; the floor is that much
lower, so a ratio to it flatters the gateway slightly, never the other way.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.errors import BenchError
from bench.wrk import WrkResult

PICKS_TABLE = "bench_picks"
_PARAM = re.compile(r"\$(\d+)")


def pgbench_path(postgres_bin: Path | None) -> str | None:
    """pgbench beside the embedded server's binaries, else on PATH."""
    if postgres_bin is not None and (postgres_bin / "pgbench").exists():
        return str(postgres_bin / "pgbench")
    return shutil.which("pgbench")


def _bind(sql: str, names: dict[int, str]) -> str:
    """The gateway's $n placeholders as pgbench :variables (pgbench prepares them again)."""
    body = " ".join(line.strip() for line in sql.strip().splitlines())
    return _PARAM.sub(lambda m: names[int(m.group(1))], body)


def script() -> str:
    """The pgbench script: the transcript path's SQL, statement for statement."""
    from tenants.queries import disclosures, transcripts

    set_district = "SELECT set_config('app.district_id', :district_id::text, true)"
    read = _bind(transcripts._STUDENT_RECORD, {1: ":district_id", 2: ":student_id"})
    insert = _bind(
        disclosures._INSERT_DISCLOSURE,
        {
            1: ":district_id",
            2: ":student_id",
            3: "'disclosed'",
            4: "'api'",
            5: "NULL::uuid",
            6: "'BENCH'",
            7: "'pgbench'",
            8: "'BENCH'",
            9: "'Enrollment at another institution'",
            10: "'34 CFR 99.31(a)(2): enrollment at another institution'",
            11: "NULL",
            12: "md5(:i::text || clock_timestamp()::text)",
            13: "encode(sha256(:i::text::bytea), 'hex')",
            14: "'1.3.0'",
            15: "NULL",
        },
    )
    return "\n".join(
        [
            "\\set i random(1, :picks)",
            f"SELECT district_id, student_id FROM {PICKS_TABLE} WHERE i = :i \\gset",  # noqa: S608 - a constant name
            "\\startpipeline",
            "BEGIN READ WRITE;",
            set_district + ";",
            "\\endpipeline",
            read + ";",
            insert + ";",
            "COMMIT;",
            "",
        ]
    )


async def fill_picks(owner_url: str, picks: list[tuple[int, str]]) -> None:
    """(district_id, student_id) pairs, numbered from 1, readable by the application role."""
    conn = await asyncpg.connect(owner_url, timeout=10)
    try:
        async with conn.transaction():
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {PICKS_TABLE}"
                " (i integer PRIMARY KEY, district_id integer NOT NULL, student_id text NOT NULL)"
            )
            await conn.execute(f"TRUNCATE {PICKS_TABLE}")
            await conn.copy_records_to_table(
                PICKS_TABLE, records=[(n, d, s) for n, (d, s) in enumerate(picks, 1)]
            )
            await conn.execute(f"GRANT SELECT ON {PICKS_TABLE} TO gateway_app")
            await conn.execute(f"ANALYZE {PICKS_TABLE}")
    finally:
        await conn.close()


@dataclass(frozen=True)
class PgbenchRun:
    binary: str
    app_url: str
    connections: int
    threads: int


def run(spec: PgbenchRun, picks: int, duration_s: float, work: Path) -> WrkResult:
    """Run the script for `duration_s`; the result in wrk's terms (transactions as requests,
    per-transaction latencies from pgbench's log)."""
    work.mkdir(parents=True, exist_ok=True)
    for old in work.glob("pgbench_log.*"):
        old.unlink()
    path = work / "transcript.sql"
    path.write_text(script(), encoding="utf-8")
    command = [
        spec.binary,
        "-n",  # no vacuum of pgbench's own tables: there are none
        "-M",
        "prepared",
        f"-c{spec.connections}",
        f"-j{spec.threads}",
        f"-T{max(1, round(duration_s))}",
        "-D",
        f"picks={picks}",
        "-f",
        str(path),
        "-l",
        "--log-prefix",
        str(work / "pgbench_log"),
        spec.app_url,
    ]
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=duration_s + 120,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError("pgbench did not finish in time") from exc
    (work / "pgbench.out").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise BenchError(f"pgbench failed ({done.returncode}): {done.stderr.strip()[-1500:]}")
    return parse(done.stdout, sorted(work.glob("pgbench_log.*")))


def parse(output: str, logs: list[Path]) -> WrkResult:
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    duration = re.search(r"duration: (\d+) s", output)
    if not processed or not duration:
        raise BenchError("pgbench printed no summary:\n" + output[-1500:])
    # Log lines: client_id transaction_no time_us script_no time_epoch time_us_fraction
    latencies = sorted(
        int(line.split()[2]) for log in logs for line in log.read_text().splitlines() if line
    )
    if not latencies:
        raise BenchError("pgbench wrote no per-transaction log")

    def pct(q: float) -> float:
        return float(latencies[min(len(latencies) - 1, int(q * len(latencies)))])

    return WrkResult(
        requests=int(processed.group(1)),
        duration_s=float(duration.group(1)),
        errors={"failed": int(failed.group(1)) if failed else 0, "status": 0},
        latency_us={
            "min": float(latencies[0]),
            "mean": sum(latencies) / len(latencies),
            "max": float(latencies[-1]),
            "p50": pct(0.5),
            "p75": pct(0.75),
            "p90": pct(0.9),
            "p99": pct(0.99),
        },
    )


def prepare_picks(owner_url: str, picks: list[tuple[int, str]]) -> None:
    asyncio.run(fill_picks(owner_url, picks))
