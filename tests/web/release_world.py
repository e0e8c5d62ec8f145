"""Fixtures of the release pages' tests: a fake vendor on loopback, and a district with
students whose transcripts can be released, connections to that vendor (one of them with a
wrong password), its own user, an operator, and another district with a batch of its own.

Registered for tests/web by `tests/web/conftest.py`. The vendor is the one tests/outgoing
uses (tests/outgoing/fake_vendor.py): a real server with faults switched per test.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import asyncpg
import pytest
from starlette.applications import Starlette

from gateway.control import users
from gateway.outgoing.batches import BatchRequest, finish_stale, queue_batch
from gateway.outgoing.report import BatchReport
from gateway.outgoing.worker import Worker
from tenants.directory import District
from tenants.stores import StoreRegistry
from tenants.synthetic.generator import DistrictPlan
from tenants.synthetic.seed import seed
from tests.conftest import SESSION_MASTER_KEYS, PgDatabase, unique_lea
from tests.factories import CONSUMER_ACTOR, add_district, add_student
from tests.outgoing.conftest import (
    add_connection,
    deliver,
    spec_for,
    worker_config,
    wrong_secret,
)
from tests.outgoing.fake_vendor import FakeVendor
from tests.secrets_seen import remember

PASSWORD = "release pages passphrase 4"
STUDENTS = 12
_plan_index = itertools.count(981)  # apart from other tests' plans (school codes, UIDs)


@dataclass(frozen=True)
class ReleaseWorld:
    district: District
    students: tuple[str, ...]  # releasable: with course records, no hold
    cohorts: dict[int, list[str]]  # graduation year -> every student of it
    valid: UUID  # a connection to the fake vendor
    valid_name: str
    wrong: UUID  # the same vendor, with a wrong password
    wrong_name: str
    district_email: str
    operator_email: str
    password: str
    other: District  # another district, with a connection and a batch of its own
    other_batch: int

    @property
    def lea(self) -> str:
        return self.district.lea_code


async def _students(owner: asyncpg.Connection, district_id: int) -> list[asyncpg.Record]:
    return list(
        await owner.fetch(
            "SELECT s.student_id, s.cohort_year,"
            " NOT EXISTS (SELECT 1 FROM transcript_holds h WHERE h.district_id = s.district_id"
            "   AND h.student_id = s.student_id AND h.released_at IS NULL)"
            " AND EXISTS (SELECT 1 FROM course_records c WHERE c.district_id = s.district_id"
            "   AND c.student_id = s.student_id) AS releasable"
            " FROM students s WHERE s.district_id = $1 ORDER BY s.student_id",
            district_id,
        )
    )


async def _seeded(database: PgDatabase, home: Path) -> District:
    lea = unique_lea()
    plan = DistrictPlan(lea, f"Release {lea} County Schools", "lea", "Wake", next(_plan_index), 1)
    await seed(
        database.settings(home),
        districts=1,
        students_per_district=STUDENTS,
        plans=[plan],
        seed=5,
        workers=0,
    )
    owner = await asyncpg.connect(database.owner_url)
    try:
        row = await owner.fetchrow(
            "SELECT district_id, lea_code, name, kind, status, store FROM districts"
            " WHERE lea_code = $1",
            lea,
        )
    finally:
        await owner.close()
    assert row is not None
    return District.from_row(row)


@pytest.fixture(scope="session")
async def release_world(
    database: PgDatabase,
    gateway_app: Starlette,
    vendor_server: FakeVendor,
    tmp_path_factory: pytest.TempPathFactory,
) -> ReleaseWorld:
    district = await _seeded(database, tmp_path_factory.mktemp("release-seed"))
    owner = await asyncpg.connect(database.owner_url)
    try:
        rows = await _students(owner, district.id)
        other = await add_district(owner, unique_lea())
        await add_student(owner, other.id, "8000000001")
    finally:
        await owner.close()
    cohorts: dict[int, list[str]] = {}
    for row in rows:
        cohorts.setdefault(row["cohort_year"], []).append(row["student_id"])
    releasable = tuple(r["student_id"] for r in rows if r["releasable"])
    assert len(releasable) >= 4
    suffix = secrets.token_hex(2)
    valid_name, wrong_name = f"Fake vendor {suffix}", f"Wrong password {suffix}"
    lea, email = district.lea_code, f"registrar-{suffix}@district.example"
    ops = f"release-ops-{suffix}@dpi.example.gov"
    async with gateway_app.state.services.stores.control.acquire() as conn:
        valid = await add_connection(conn, lea, spec_for(vendor_server, name=valid_name))
        wrong = await add_connection(
            conn, lea, spec_for(vendor_server, name=wrong_name, password=wrong_secret())
        )
        elsewhere = await add_connection(conn, other.lea_code, spec_for(vendor_server))
        for who, role, code in ((email, "district", lea), (ops, "operator", None)):
            await users.add(
                conn, email=who, role=role, lea_code=code, password=PASSWORD, actor=CONSUMER_ACTOR
            )
        other_batch = await _queue_elsewhere(conn, gateway_app, other, elsewhere)
    remember(PASSWORD)
    return ReleaseWorld(
        district=district,
        students=releasable,
        cohorts=cohorts,
        valid=valid,
        valid_name=valid_name,
        wrong=wrong,
        wrong_name=wrong_name,
        district_email=email,
        operator_email=ops,
        password=PASSWORD,
        other=other,
        other_batch=other_batch,
    )


async def _queue_elsewhere(
    conn: asyncpg.Connection, app: Starlette, other: District, connection_id: UUID
) -> int:
    """A batch of the other district, closed at once: it only has to exist."""
    stores: StoreRegistry = app.state.services.stores
    request = BatchRequest(str(connection_id), ("8000000001",))
    batch = await queue_batch(conn, stores, other, request, CONSUMER_ACTOR)
    await conn.execute(
        "UPDATE release_items SET status = 'failed', error_kind = 'test',"
        " last_error = 'closed by the test' WHERE batch_id = $1",
        batch["batch_id"],
    )
    await finish_stale(conn)
    batch_id: int = batch["batch_id"]
    return batch_id


@pytest.fixture
async def worker(gateway_app: Starlette) -> AsyncIterator[Worker]:
    """A release worker (tiny delays), stopped after the test."""
    running = Worker(gateway_app.state.services.stores, SESSION_MASTER_KEYS, worker_config())
    await running.start()
    try:
        yield running
    finally:
        await running.stop()


async def delivered(app: Starlette, batch_id: int) -> BatchReport:
    """Run a worker until the batch finishes; its report."""
    stores: StoreRegistry = app.state.services.stores
    async with stores.control.acquire() as conn:
        return await deliver(stores, conn, batch_id)


__all__ = [
    "ReleaseWorld",
    "delivered",
    "release_world",
    "worker",
]
