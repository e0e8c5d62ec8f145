"""The queue's primitives on real Postgres: claims, leases, ownership, closing a batch."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from gateway.errors import NotFound
from gateway.outgoing import batches
from gateway.outgoing.failures import Failure
from gateway.outgoing.report import list_batches, load_report
from tenants.stores import StoreRegistry
from tests.outgoing.conftest import MakeConnection, ReleaseDistrict, queue

TRANSIENT = Failure("http_5xx", "The upload endpoint answered 503", retryable=True)


@pytest.fixture(autouse=True)
async def close_what_the_test_left_open(
    app_conn: asyncpg.Connection, release_district: ReleaseDistrict
) -> AsyncIterator[None]:
    """These tests claim items without delivering them; other tests' workers must not wait
    for their leases."""
    yield
    await app_conn.execute(
        "UPDATE release_items SET status = 'failed', lease_owner = NULL, lease_expires_at = NULL,"
        " error_kind = 'test', last_error = 'closed by the test'"
        " WHERE district_id = $1 AND status IN ('queued', 'in_progress')",
        release_district.district.id,
    )
    await batches.finish_stale(app_conn)


async def expire_leases(conn: asyncpg.Connection, batch_id: int) -> None:
    await conn.execute(
        "UPDATE release_items SET lease_expires_at = now() - interval '1 second'"
        " WHERE batch_id = $1 AND status = 'in_progress'",
        batch_id,
    )


async def test_claims_never_hand_out_an_item_twice_and_start_the_batch(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    connection_to: MakeConnection,
) -> None:
    batch_id = await queue(
        app_conn, stores, release_district, await connection_to(), release_district.free(5)
    )
    a = await batches.claim(app_conn, "worker-a", 60, limit=3)
    b = await batches.claim(app_conn, "worker-b", 60, limit=3)
    nothing = await batches.claim(app_conn, "worker-c", 60, limit=3)

    assert [i.item_no for i in a] == [1, 2, 3]
    assert [i.item_no for i in b] == [4, 5]
    assert nothing == []
    assert {i.tracking_id for i in a + b} == {f"batch-{batch_id}-{n}" for n in range(1, 6)}
    assert len({i.document_id for i in a + b}) == 5
    report = await load_report(app_conn, batch_id)
    assert (report.status, report.counts["in_progress"]) == ("running", 5)
    assert report.started_at is not None


async def test_document_id_is_fixed_across_attempts_and_sweeps(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    connection_to: MakeConnection,
) -> None:
    batch_id = await queue(
        app_conn, stores, release_district, await connection_to(), release_district.free(1)
    )
    [first] = await batches.claim(app_conn, "worker-a", 60)
    assert await batches.reschedule(app_conn, first, "worker-a", 0.0, TRANSIENT)
    [second] = await batches.claim(app_conn, "worker-b", 60)
    await expire_leases(app_conn, batch_id)  # worker-b dies
    assert await batches.sweep_expired(app_conn) == 1
    [third] = await batches.claim(app_conn, "worker-c", 60)

    assert first.document_id == second.document_id == third.document_id
    assert first.document_created_at == third.document_created_at
    assert (first.attempts, second.attempts, third.attempts) == (1, 2, 3)


async def test_only_the_lease_holder_can_reschedule_or_fail_an_item(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    connection_to: MakeConnection,
) -> None:
    batch_id = await queue(
        app_conn, stores, release_district, await connection_to(), release_district.free(1)
    )
    [item] = await batches.claim(app_conn, "worker-a", 60)
    await expire_leases(app_conn, batch_id)
    await batches.sweep_expired(app_conn)
    [again] = await batches.claim(app_conn, "worker-b", 60)

    # worker-a lost its lease: what it reports now changes nothing.
    assert not await batches.reschedule(app_conn, item, "worker-a", 0.0, TRANSIENT)
    assert not await batches.fail(app_conn, item, "worker-a", "http_4xx", "refused")
    assert await batches.fail(app_conn, again, "worker-b", "http_4xx", "refused")
    line = (await load_report(app_conn, batch_id)).lines[0]
    assert (line.status, line.error_kind, line.attempts) == ("failed", "http_4xx", 2)


async def test_a_late_acceptance_turns_failed_into_delivered_and_recounts_the_batch(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    connection_to: MakeConnection,
) -> None:
    batch_id = await queue(
        app_conn, stores, release_district, await connection_to(), release_district.free(1)
    )
    [item] = await batches.claim(app_conn, "worker-a", 60)
    assert await batches.fail(app_conn, item, "worker-a", "timeout", "no answer")
    closed = await batches.finish_if_done(app_conn, batch_id)
    assert closed is not None
    assert (closed["delivered_count"], closed["failed_count"]) == (0, 1)
    assert await batches.finish_if_done(app_conn, batch_id) is None  # closed once

    assert await batches.deliver(app_conn, item, "V-late", "0" * 64) == "failed"
    assert await batches.deliver(app_conn, item, "V-again", None) is None  # already delivered

    [listed] = [b for b in await list_batches(app_conn, lea_code=release_district.lea)
                if b["batch_id"] == batch_id]  # fmt: skip
    assert (listed["delivered"], listed["failed"]) == (1, 0)
    line = (await load_report(app_conn, batch_id)).lines[0]
    assert (line.status, line.vendor_reference) == ("delivered", "V-late")
    audit = await app_conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'release.finish' AND target = $1",
        str(batch_id),
    )
    assert audit == 1


async def test_report_for_a_district_page_hides_other_districts_batches(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    connection_to: MakeConnection,
) -> None:
    batch_id = await queue(
        app_conn, stores, release_district, await connection_to(), release_district.free(1)
    )
    mine = await load_report(app_conn, batch_id, district_id=release_district.district.id)
    assert mine.batch_id == batch_id
    with pytest.raises(NotFound):
        await load_report(app_conn, batch_id, district_id=release_district.district.id + 10_000)
