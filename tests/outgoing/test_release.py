"""Batch release against the fake vendor: every fault ends in the right status, nothing is
delivered twice, every delivered document is a valid PESC transcript, and the district's
disclosure log has exactly one row per delivered transcript."""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg
import pytest

from gateway.errors import NotFound, ValidationFailed
from gateway.outgoing import batches
from gateway.outgoing.batches import BatchRequest
from gateway.outgoing.client import Timeouts
from gateway.outgoing.delivery import Accepted, disclosure_row
from gateway.outgoing.report import BatchReport
from gateway.outgoing.retry import RetryPolicy
from gateway.outgoing.worker import Worker
from gateway.pesc import validate
from tenants.stores import StoreRegistry
from tests.conftest import SESSION_MASTER_KEYS
from tests.outgoing.conftest import (
    ACTOR,
    MakeConnection,
    ReleaseDistrict,
    batch_disclosures,
    deliver,
    queue,
    worker_config,
    wrong_secret,
)
from tests.outgoing.fake_vendor import FakeVendor, Faults, free_port

# Short enough that a slow vendor answer (1 s) is a timeout.
# Short against the deliberately slow vendor below (6 s), long enough that a loaded machine
# never times out an answer that comes at once.
FAST = Timeouts(connect=2.0, read=2.0)


def assert_valid_pesc(pesc_dir: Path, vendor: FakeVendor) -> None:
    for received in vendor.documents.values():
        assert validate(pesc_dir, "HighSchoolTranscript 1.3.0", received.body) == []


async def assert_disclosed_once_per_delivery(
    owner_conn: asyncpg.Connection,
    district: ReleaseDistrict,
    report: BatchReport,
    vendor: FakeVendor,
) -> None:
    """One `disclosed` row per delivered line, recording exactly the bytes the vendor holds."""
    rows = await batch_disclosures(owner_conn, district.district.id, report.batch_id)
    disclosed = {r["document_id"]: r for r in rows if r["event"] == "disclosed"}
    delivered = [line for line in report.lines if line.status == "delivered"]
    assert len(disclosed) == len([r for r in rows if r["event"] == "disclosed"]) == len(delivered)
    for line in delivered:
        assert line.document_id is not None
        row = disclosed[line.document_id]
        sent = vendor.documents[line.document_id]
        assert row["student_id"] == line.student_id
        assert row["document_sha256"] == hashlib.sha256(sent.body).hexdigest()
        assert row["consumer_name"] == report.connection_name
        assert row["recipient"].startswith(report.connection_name)
        assert line.vendor_reference == sent.reference


async def test_batch_delivers_each_student_once_with_a_disclosure_row(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    pesc_dir: Path,
) -> None:
    connection_id = await connection_to()
    students = release_district.free(6)
    batch_id = await queue(app_conn, stores, release_district, connection_id, students)

    report = await deliver(stores, app_conn, batch_id)

    assert report.status == "finished"
    assert report.counts == {"queued": 0, "in_progress": 0, "delivered": 6, "failed": 0}
    assert [line.student_id for line in report.lines] == students
    assert all(line.attempts == 1 for line in report.lines)
    assert vendor.upload_calls == 6
    assert len(vendor.documents) == 6
    assert vendor.token_calls == 1  # one token, cached for the whole batch
    assert_valid_pesc(pesc_dir, vendor)
    await assert_disclosed_once_per_delivery(owner_conn, release_district, report, vendor)


async def test_cohort_batch_releases_the_graduating_class(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    cohorts: dict[int, list[str]] = {}
    for s in release_district.students:
        cohorts.setdefault(s["cohort_year"], []).append(s["student_id"])
    year, members = min(cohorts.items(), key=lambda kv: len(kv[1]))
    connection_id = await connection_to()
    batch_id = await queue(app_conn, stores, release_district, connection_id, cohort_year=year)

    report = await deliver(stores, app_conn, batch_id, worker_config(concurrency=4))

    assert report.selection == {"kind": "cohort", "cohort_year": year, "count": len(members)}
    assert sorted(line.student_id for line in report.lines) == sorted(members)
    held = {s["student_id"] for s in release_district.students if s["held"]}
    assert report.counts["delivered"] == len(set(members) - held)
    assert report.counts["failed"] == len(set(members) & held)
    assert len(vendor.documents) == report.counts["delivered"]


async def test_student_on_hold_is_not_sent_and_the_refusal_is_recorded(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    held = release_district.held()
    free = release_district.free(1)
    connection_id = await connection_to()
    batch_id = await queue(app_conn, stores, release_district, connection_id, [held, *free])

    report = await deliver(stores, app_conn, batch_id)

    line = report.lines[0]
    assert (line.student_id, line.status, line.error_kind, line.error) == (
        held,
        "failed",
        "hold",
        "hold",
    )
    assert report.counts["delivered"] == 1
    assert len(vendor.documents) == 1 == vendor.upload_calls
    rows = await batch_disclosures(owner_conn, release_district.district.id, batch_id)
    refused = [r for r in rows if r["event"] == "refused_hold"]
    assert [r["student_id"] for r in refused] == [held]
    assert refused[0]["document_sha256"] is None
    assert refused[0]["detail"]  # the hold types, as the API records them


async def test_5xx_is_retried_with_backoff_and_delivered_once(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
    pesc_dir: Path,
) -> None:
    vendor.reset(Faults(upload_failures=2))
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(1)
    )

    report = await deliver(stores, app_conn, batch_id)

    line = report.lines[0]
    assert (line.status, line.attempts) == ("delivered", 3)
    assert vendor.upload_calls == 3  # two 500s, then the one that stored it
    assert len(vendor.documents) == 1
    assert_valid_pesc(pesc_dir, vendor)
    await assert_disclosed_once_per_delivery(owner_conn, release_district, report, vendor)


async def test_5xx_past_the_limit_fails_with_the_reason_and_no_disclosure(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    vendor.reset(Faults(upload_failures=100))
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(2)
    )

    report = await deliver(stores, app_conn, batch_id)

    assert report.counts["failed"] == 2
    for line in report.lines:
        assert (line.status, line.attempts, line.error_kind) == ("failed", 4, "http_5xx")
        assert "500" in (line.error or "")
    assert vendor.upload_calls == 8  # max_attempts (4) each, no more
    assert vendor.documents == {}
    assert await batch_disclosures(owner_conn, release_district.district.id, batch_id) == []


async def test_timeout_after_the_vendor_stored_it_is_retried_without_a_duplicate(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    # The vendor stores the first upload but answers after the client's read timeout.
    vendor.reset(Faults(slow_uploads=1, upload_delay=6.0))
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(1)
    )

    report = await deliver(stores, app_conn, batch_id, worker_config(timeouts=FAST))

    line = report.lines[0]
    assert (line.status, line.attempts) == ("delivered", 2)
    assert vendor.upload_calls == 2  # a retry ...
    assert vendor.replays == 1  # ... answered from the first copy ...
    assert len(vendor.documents) == 1  # ... so one delivery
    assert line.vendor_reference == vendor.documents[str(line.document_id)].reference
    await assert_disclosed_once_per_delivery(owner_conn, release_district, report, vendor)


async def test_timeouts_past_the_limit_fail_with_reason_timeout(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    vendor.reset(Faults(every_upload_delay=6.0))
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(1)
    )

    config = worker_config(timeouts=FAST, retry=RetryPolicy(2, 0.01, 0.02))
    report = await deliver(stores, app_conn, batch_id, config)

    line = report.lines[0]
    assert (line.status, line.attempts, line.error_kind) == ("failed", 2, "timeout")


async def test_expired_token_is_refreshed_once_and_the_upload_repeated(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    # After the second document, every token issued so far stops working.
    vendor.reset(Faults(expire_after=2))
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(4)
    )

    report = await deliver(stores, app_conn, batch_id, worker_config(concurrency=1))

    assert report.counts["delivered"] == 4
    assert all(line.attempts == 1 for line in report.lines)  # a refresh is not a retry
    assert vendor.token_calls == 2
    assert vendor.upload_calls == 5  # one upload answered 401, then repeated
    assert len(vendor.documents) == 4
    await assert_disclosed_once_per_delivery(owner_conn, release_district, report, vendor)


async def test_wrong_password_fails_every_item_after_one_login(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    connection_id = await connection_to(password=wrong_secret())
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(5)
    )

    report = await deliver(stores, app_conn, batch_id)

    assert report.counts["failed"] == 5
    for line in report.lines:
        assert (line.status, line.attempts, line.error_kind) == ("failed", 1, "auth")
        assert (line.error or "").startswith("401 from the auth server")
    # Remembered: one refused login, not five (a vendor would lock the account).
    assert vendor.token_calls == 1
    assert vendor.upload_calls == 0


async def test_connection_refused_is_retried_then_fails_with_reason_refused(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    connection_id = await connection_to(upload_port=free_port())
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(1)
    )

    report = await deliver(stores, app_conn, batch_id)

    line = report.lines[0]
    assert (line.status, line.attempts, line.error_kind) == ("failed", 4, "refused")
    assert vendor.documents == {}


async def test_4xx_is_not_retried(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    vendor.reset(Faults(upload_status=422))
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(1)
    )

    report = await deliver(stores, app_conn, batch_id)

    line = report.lines[0]
    assert (line.status, line.attempts, line.error_kind) == ("failed", 1, "http_4xx")
    assert vendor.upload_calls == 1


async def test_a_worker_that_died_after_the_vendor_accepted_loses_nothing_and_sends_nothing_twice(
    app_conn: asyncpg.Connection,
    owner_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
    connection_to: MakeConnection,
) -> None:
    """Worker A uploads and writes the disclosure row, then dies before marking the item.
    After A's lease, worker B tries again: the vendor answers from its first copy, the
    existing disclosure row is found, and the item is delivered once."""
    connection_id = await connection_to()
    batch_id = await queue(
        app_conn, stores, release_district, connection_id, release_district.free(1)
    )
    dying = Worker(stores, SESSION_MASTER_KEYS, worker_config(lease_seconds=0.5))
    try:
        [item] = await batches.claim(app_conn, dying.name, 0.5)
        outcome = await dying.delivery.attempt(item)
        assert isinstance(outcome, Accepted)
        await dying.delivery.disclose(  # the first half of settling; then A "dies"
            item,
            disclosure_row(
                item,
                "disclosed",
                document_id=item.document_id,
                document_sha256=outcome.sha256,
                pesc_version="1.3.0",
            ),
        )
    finally:
        await dying.stop()

    # B sweeps expired leases every quarter lease.
    report = await deliver(stores, app_conn, batch_id, worker_config(lease_seconds=1.0))

    line = report.lines[0]
    assert (line.status, line.attempts) == ("delivered", 2)
    assert vendor.upload_calls == 2
    assert vendor.replays == 1
    assert len(vendor.documents) == 1
    await assert_disclosed_once_per_delivery(owner_conn, release_district, report, vendor)


async def test_queue_refuses_unknown_students_an_empty_cohort_and_foreign_connections(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    connection_to: MakeConnection,
) -> None:
    connection_id = await connection_to()
    with pytest.raises(ValidationFailed) as unknown:
        await queue(
            app_conn,
            stores,
            release_district,
            connection_id,
            ["0000000001", *release_district.free(1)],
        )
    assert "1 not students of district" in unknown.value.errors["students"]
    with pytest.raises(ValidationFailed) as empty:
        await queue(app_conn, stores, release_district, connection_id, cohort_year=1999)
    assert "no students of cohort 1999" in empty.value.errors["cohort_year"]
    with pytest.raises(NotFound):
        await batches.queue_batch(
            app_conn,
            stores,
            release_district.district,
            BatchRequest("00000000-0000-0000-0000-000000000000", ("1",)),
            ACTOR,
        )
    queued = await app_conn.fetchval(
        "SELECT count(*) FROM release_batches WHERE connection_id = $1", connection_id
    )
    assert queued == 0
