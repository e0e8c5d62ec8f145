"""A seeded district, a fake vendor on loopback, outgoing connections to it, and workers."""

from __future__ import annotations

import asyncio
import itertools
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from gateway.audit import Actor
from gateway.control import vendors
from gateway.outgoing import batches
from gateway.outgoing.batches import BatchRequest
from gateway.outgoing.client import Timeouts
from gateway.outgoing.report import BatchReport, load_report
from gateway.outgoing.retry import RetryPolicy
from gateway.outgoing.worker import Worker, WorkerConfig
from gateway.services import store_urls
from tenants.directory import District
from tenants.stores import StoreRegistry
from tenants.synthetic.generator import DistrictPlan
from tenants.synthetic.seed import seed
from tests.conftest import SESSION_MASTER_KEYS, PgDatabase, unique_lea
from tests.outgoing.fake_vendor import CONSUMER_KEY, USERNAME, FakeVendor
from tests.secrets_seen import remember

STUDENTS = 520  # 500 without a hold for the two-worker test, and a few held ones
ACTOR = Actor("cli", "pytest")
_plan_index = itertools.count(700)


@dataclass(frozen=True)
class ReleaseDistrict:
    district: District
    students: list[asyncpg.Record]  # student_id, cohort_year, held

    @property
    def lea(self) -> str:
        return self.district.lea_code

    def free(self, count: int, *, skip: int = 0) -> list[str]:
        """`count` students without a hold."""
        ids = [s["student_id"] for s in self.students if not s["held"]]
        return ids[skip : skip + count]

    def held(self) -> str:
        held: str = next(s["student_id"] for s in self.students if s["held"])
        return held


def wrong_secret() -> str:
    """A wrong password or secret that a test sends: distinctive, and checked against the logs
    like the right ones."""
    value = "wrong-" + secrets.token_urlsafe(12)
    remember(value)
    return value


@pytest.fixture(scope="session")
async def release_district(
    database: PgDatabase, tmp_path_factory: pytest.TempPathFactory
) -> ReleaseDistrict:
    lea = unique_lea()
    plan = DistrictPlan(lea, f"Release {lea} County Schools", "lea", "Wake", next(_plan_index), 2)
    settings = database.settings(Path(tmp_path_factory.mktemp("release-seed")))
    await seed(
        settings, districts=1, students_per_district=STUDENTS, plans=[plan], seed=11, workers=0
    )
    owner = await asyncpg.connect(database.owner_url)
    try:
        row = await owner.fetchrow(
            "SELECT district_id, lea_code, name, kind, status, store FROM districts"
            " WHERE lea_code = $1",
            lea,
        )
        assert row is not None
        students = await owner.fetch(
            "SELECT s.student_id, s.cohort_year,"
            " EXISTS (SELECT 1 FROM transcript_holds h WHERE h.district_id = s.district_id"
            "   AND h.student_id = s.student_id AND h.released_at IS NULL) AS held"
            " FROM students s WHERE s.district_id = $1 ORDER BY s.student_id",
            row["district_id"],
        )
    finally:
        await owner.close()
    assert sum(1 for s in students if not s["held"]) >= 500
    assert any(s["held"] for s in students)
    return ReleaseDistrict(District.from_row(row), list(students))


@pytest.fixture(scope="session")
async def stores(database: PgDatabase) -> AsyncIterator[StoreRegistry]:
    registry = StoreRegistry(
        store_urls(database.settings(Path("/nonexistent"))), min_size=1, max_size=12
    )
    await registry.open()
    yield registry
    await registry.close()


@dataclass(frozen=True)
class ConnectionSpec:
    """An outgoing connection to the fake vendor; override fields to break it."""

    name: str = field(default_factory=lambda: f"Vendor {secrets.token_hex(3)}")
    auth_server: str = ""
    auth_path: str = "/oauth/token"
    upload_server: str = ""
    upload_port: int = 0
    upload_path: str = "/upload"
    consumer_key: str = CONSUMER_KEY
    consumer_secret: str = ""
    username: str = USERNAME
    password: str = ""
    grant_type: str = "password"


def spec_for(vendor: FakeVendor, **overrides: Any) -> ConnectionSpec:
    base = ConnectionSpec(
        auth_server=vendor.base_url,
        upload_server=vendor.base_url,
        upload_port=vendor.port,
        consumer_secret=vendor.consumer_secret,
        password=vendor.password,
    )
    return replace(base, **overrides)


async def add_connection(
    conn: asyncpg.Connection,
    lea: str,
    spec: ConnectionSpec,
    *,
    allow_insecure: bool = False,
    tested: bool = True,
) -> UUID:
    """A new connection; with `tested`, already carrying a valid test result (see
    `mark_tested`), so that batches may be queued through it."""
    created = await vendors.add(
        conn,
        SESSION_MASTER_KEYS,
        lea,
        vendors.ConnectionInput(**vars(spec)),
        ACTOR,
        allow_insecure=allow_insecure,
    )
    connection_id: UUID = created["connection_id"]
    if tested:
        await mark_tested(conn, connection_id)
    return connection_id


async def mark_tested(conn: asyncpg.Connection, connection_id: UUID) -> None:
    """Store a valid test result for the connection's current values, as a passing test does.

    For tests of what happens after queueing (deliveries, retries, refusals by the vendor):
    their connections break on purpose, as a vendor's would after a test had passed (a rotated
    password, an outage). What a test itself decides is covered by test_connection_test_cases.
    """
    row = await vendors.get(conn, connection_id)
    stored = await vendors.record_test(
        conn, connection_id, True, "valid (fixture)", tested_version=row["updated_at"]
    )
    assert stored


MakeConnection = Callable[..., Awaitable[UUID]]


@pytest.fixture
async def connection_to(
    app_conn: asyncpg.Connection, release_district: ReleaseDistrict, vendor: FakeVendor
) -> MakeConnection:
    """`await connection_to(**overrides)`: a new connection of the district to the vendor."""

    async def make(**overrides: Any) -> UUID:
        return await add_connection(app_conn, release_district.lea, spec_for(vendor, **overrides))

    return make


def worker_config(**overrides: Any) -> WorkerConfig:
    """Tiny delays: tests wait milliseconds where production waits seconds."""
    base = WorkerConfig(
        concurrency=2,
        lease_seconds=10.0,
        idle_poll_seconds=0.02,
        retry=RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05),
        timeouts=Timeouts(connect=1.0, read=1.0),
        auth_refusal_seconds=60.0,
    )
    return replace(base, **overrides)


async def queue(
    conn: asyncpg.Connection,
    stores: StoreRegistry,
    district: ReleaseDistrict,
    connection_id: UUID,
    students: list[str] | None = None,
    cohort_year: int | None = None,
) -> int:
    batch = await batches.queue_batch(
        conn,
        stores,
        district.district,
        BatchRequest(str(connection_id), tuple(students or ()), cohort_year),
        ACTOR,
    )
    batch_id: int = batch["batch_id"]
    return batch_id


async def wait_finished(conn: asyncpg.Connection, batch_id: int, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while (
            await conn.fetchval("SELECT status FROM release_batches WHERE batch_id = $1", batch_id)
            != "finished"
        ):
            await asyncio.sleep(0.02)


async def deliver(
    stores: StoreRegistry,
    conn: asyncpg.Connection,
    batch_id: int,
    config: WorkerConfig | None = None,
    timeout: float = 20.0,
) -> BatchReport:
    """Run one worker until the batch finishes; its report."""
    worker = Worker(stores, SESSION_MASTER_KEYS, config or worker_config())
    await worker.start()
    try:
        await wait_finished(conn, batch_id, timeout)
    finally:
        await worker.stop()
    return await load_report(conn, batch_id)


async def batch_disclosures(
    owner: asyncpg.Connection, district_id: int, batch_id: int
) -> list[asyncpg.Record]:
    """The district's disclosure rows of one batch (read as the owner, for assertions)."""
    return list(
        await owner.fetch(
            "SELECT * FROM disclosures WHERE district_id = $1 AND channel = 'batch'"
            " AND request_tracking_id LIKE $2 ORDER BY request_tracking_id",
            district_id,
            f"batch-{batch_id}-%",
        )
    )
