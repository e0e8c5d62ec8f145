"""`gateway worker --metrics-port N`: a real worker process, a release to the loopback vendor,
and its /metrics and /healthz seen moving; the database cut through a relay turns health 503."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import asyncpg
import httpx
from prometheus_client.parser import text_string_to_metric_families

from gateway import __version__
from tenants.stores import StoreRegistry
from tests.cli.conftest import cli_env
from tests.cli.test_dev import free_port
from tests.conftest import REPO, PgDatabase
from tests.outgoing.conftest import (
    MakeConnection,
    ReleaseDistrict,
    batch_disclosures,
    queue,
    wait_finished,
)
from tests.outgoing.fake_vendor import FakeVendor, Faults
from tests.resilience.outage_proxy import OutageProxy

ITEMS = 3


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition text (0 when the series is absent)."""
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and all(found.labels.get(k) == v for k, v in labels.items()):
                return float(found.value)
    return 0.0


async def until(
    client: httpx.AsyncClient, path: str, ok: Callable[[httpx.Response], bool]
) -> httpx.Response:
    """GET `path` until `ok` holds (a condition; the bound only stops a hung test)."""
    async with asyncio.timeout(120):
        while True:
            try:
                response = await client.get(path)
                if ok(response):
                    return response
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)


async def test_worker_metrics_and_health_follow_a_release_and_the_database(
    database: PgDatabase,
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    tmp_path: Path,
) -> None:
    proxy = OutageProxy(database.app_url)  # the worker's only way to its database
    await proxy.start()
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")},
        **cli_env(database),
        "GATEWAY_DATABASE_URL": proxy.url,
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    # The vendor fails every upload until the test has seen the items waiting in the queue.
    vendor.reset(Faults(upload_status=500))
    # As --help shows it: `gateway worker --metrics-port 9101` (a free port here).
    args = [
        "worker",
        "--metrics-port",
        str(port),
        "--idle-poll",
        "0.05",
        "--backoff",
        "0.05",
        "--backoff-max",
        "0.2",
    ]
    args += ["--max-attempts", "100", "--connect-timeout", "2", "--read-timeout", "5"]
    log = tmp_path / "worker.log"
    out = log.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "gateway", "--env-file", "/nonexistent", *args],
        env=env,
        cwd=REPO,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            healthy = await until(client, "/healthz", lambda r: r.status_code == 200)
            assert healthy.json() == {"status": "ok", "worker": "running", "database": "ok"}
            first = (await client.get("/metrics")).text
            assert sample(first, "gateway_build_info", version=__version__) == 1
            assert sample(first, "gateway_release_items_total", outcome="delivered") == 0

            connection_id = await connection_to()
            students = release_district.free(ITEMS, skip=40)
            batch_id = await queue(app_conn, stores, release_district, connection_id, students)

            def waiting(r: httpx.Response) -> bool:
                text = r.text
                open_items = sample(text, "gateway_release_queue_items", state="queued") + sample(
                    text, "gateway_release_queue_items", state="in_progress"
                )
                return (
                    open_items >= ITEMS
                    and sample(text, "gateway_release_items_total", outcome="retry") >= ITEMS
                    and sample(text, "gateway_release_queue_oldest_age_seconds", state="queued") > 0
                )

            during = (await until(client, "/metrics", waiting)).text
            assert (
                sample(during, "gateway_release_vendor_duration_seconds_count", result="failed")
                >= ITEMS
            )
            assert sample(during, "gateway_disclosures_total", channel="batch") == 0

            vendor.reset()  # the vendor is back: every item is delivered
            await wait_finished(app_conn, batch_id, timeout=120)
            rows = await batch_disclosures(owner_conn, release_district.district.id, batch_id)
            assert len(rows) == ITEMS

            def delivered(r: httpx.Response) -> bool:
                return sample(r.text, "gateway_release_items_total", outcome="delivered") >= ITEMS

            after = (await until(client, "/metrics", delivered)).text
            assert (
                sample(after, "gateway_disclosures_total", event="disclosed", channel="batch")
                >= ITEMS
            )
            assert (
                sample(after, "gateway_release_vendor_duration_seconds_count", result="accepted")
                >= ITEMS
            )

            proxy.cut()  # the database goes away: the probe must say so
            down = await until(client, "/healthz", lambda r: r.status_code == 503)
            assert down.json() == {
                "status": "unavailable",
                "worker": "running",
                "database": "unreachable",
            }
            scraped = await client.get("/metrics")  # still answers, without queue figures
            assert scraped.status_code == 200
            assert "gateway_release_queue_items{" not in scraped.text
            proxy.mend()
            await until(client, "/healthz", lambda r: r.status_code == 200)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 60)
        out.close()
        await proxy.close()
        vendor.reset()
    assert code == 0, log.read_text()
