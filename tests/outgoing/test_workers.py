"""Two workers on one batch of 500 students: each transcript is delivered exactly once, even
when one worker (a real `gateway worker` process) is killed with SIGKILL mid-batch."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import asyncpg

from gateway.outgoing.report import load_report
from gateway.outgoing.worker import Worker
from gateway.pesc import validate
from tenants.stores import StoreRegistry
from tests.cli.conftest import cli_env
from tests.conftest import REPO, SESSION_MASTER_KEYS, PgDatabase
from tests.outgoing.conftest import (
    MakeConnection,
    ReleaseDistrict,
    batch_disclosures,
    queue,
    wait_finished,
    worker_config,
)
from tests.outgoing.fake_vendor import FakeVendor, Faults
from tests.secrets_seen import SEEN, Tee

LEASE = 2.0
WORKER_ARGS = [
    "--concurrency", "4",
    "--lease", str(LEASE),
    "--idle-poll", "0.05",
    "--backoff", "0.01",
    "--backoff-max", "0.05",
    "--connect-timeout", "1",
    "--read-timeout", "1",
]  # fmt: skip


def start_cli_worker(database: PgDatabase, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **cli_env(database), "GATEWAY_LOG_LEVEL": "INFO"}
    command = "from gateway.cli import main; main()"
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-c", command, "--env-file", "/nonexistent", "worker", *WORKER_ARGS],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=REPO,
        )


async def leased_to(conn: asyncpg.Connection, batch_id: int, pid: int) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM release_items WHERE batch_id = $1 AND status = 'in_progress'"
        " AND lease_owner LIKE $2",
        batch_id,
        f"%:{pid}:%",
    )
    return count


async def test_two_workers_one_killed_mid_batch_deliver_500_exactly_once(
    database: PgDatabase,
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    pesc_dir: Path,
    tmp_path: Path,
) -> None:
    # Each upload takes a moment, so a worker always has items in flight when it is killed.
    vendor.reset(Faults(every_upload_delay=0.01))
    connection_id = await connection_to()
    students = release_district.free(500)
    batch_id = await queue(app_conn, stores, release_district, connection_id, students)

    log = tmp_path / "worker.log"
    doomed = start_cli_worker(database, log)
    survivor = Worker(
        stores, SESSION_MASTER_KEYS, worker_config(concurrency=6, lease_seconds=LEASE)
    )
    stranded = 0
    try:
        async with asyncio.timeout(30):  # the subprocess starts, then claims
            while await leased_to(app_conn, batch_id, doomed.pid) == 0:
                assert doomed.poll() is None, log.read_text()
                await asyncio.sleep(0.02)
        await survivor.start()
        async with asyncio.timeout(30):  # both deliver for a while
            while True:
                by_token = Counter(d.token for d in vendor.documents.values())
                if len(by_token) == 2 and min(by_token.values()) >= 40:
                    break
                await asyncio.sleep(0.02)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(timeout=10)
        stranded = await leased_to(app_conn, batch_id, doomed.pid)
        await wait_finished(app_conn, batch_id, timeout=60)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait()
        await survivor.stop()
        output = log.read_text(errors="replace")
        Tee().write(output)  # the final test checks every log line of the run for secrets

    report = await load_report(app_conn, batch_id)
    assert report.counts == {"queued": 0, "in_progress": 0, "delivered": 500, "failed": 0}
    # Exactly once: one stored document per item, each item's own key, every extra call a replay.
    assert set(vendor.documents) == {line.document_id for line in report.lines}
    assert len(vendor.documents) == 500
    assert vendor.upload_calls == 500 + vendor.replays
    # The killed worker's items came back after its lease and were tried again.
    assert stranded > 0
    assert sum(1 for line in report.lines if line.attempts >= 2) >= stranded
    # One disclosure row per delivered transcript, for exactly the bytes the vendor holds.
    rows = await batch_disclosures(owner_conn, release_district.district.id, batch_id)
    assert len(rows) == 500
    assert {r["document_id"] for r in rows} == set(vendor.documents)
    assert sorted(r["student_id"] for r in rows) == sorted(students)
    for received in vendor.documents.values():
        assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", received.body) == []
    assert "release_worker_started" in output
    leaked = [s[:6] for s in SEEN if s in output]
    assert leaked == []


async def test_the_app_runs_a_worker_in_its_lifespan_when_asked(
    database: PgDatabase,
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    tmp_path: Path,
) -> None:
    """`gateway dev` passes run_worker=True: queued batches are delivered by the app itself."""
    from gateway.app import create_app

    app = create_app(database.settings(tmp_path), run_worker=True)
    batch_id = await queue(
        app_conn, stores, release_district, await connection_to(), release_district.free(2)
    )
    async with app.router.lifespan_context(app):
        await wait_finished(app_conn, batch_id, timeout=20)
    report = await load_report(app_conn, batch_id)
    assert report.counts["delivered"] == 2
    assert len(vendor.documents) == 2
