"""A batch follows a valid test (issue 11): queueing is refused, saying why and how to fix it,
unless the connection's latest test is valid and nothing changed since; and a connection that
batches used is retired, keeping its history, instead of a dead-end delete."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest

from gateway.control import vendors
from gateway.errors import Conflict, ConnectionNotReady
from gateway.outgoing.client import Timeouts
from gateway.outgoing.probe import check_connection
from gateway.outgoing.report import load_report
from tenants.stores import StoreRegistry
from tests.admin.conftest import close_open_batches
from tests.cli.conftest import Invoke
from tests.cli.conftest import gateway_cli as gateway_cli  # the fixture, for this folder
from tests.conftest import SESSION_MASTER_KEYS
from tests.outgoing.conftest import (
    ACTOR,
    ReleaseDistrict,
    add_connection,
    queue,
    spec_for,
    wrong_secret,
)
from tests.outgoing.fake_vendor import FakeVendor

QUICK = Timeouts(connect=0.5, read=0.5)


@pytest.fixture(autouse=True)
async def no_batch_left_open(
    app_conn: asyncpg.Connection, release_district: ReleaseDistrict
) -> AsyncIterator[None]:
    """The batches queued here are never delivered: closed at the end, so that the workers of
    later tests do not find them in the shared queue."""
    yield
    await close_open_batches(app_conn, release_district.district.id)


async def batches_through(conn: asyncpg.Connection, connection_id: UUID) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM release_batches WHERE connection_id = $1", connection_id
    )
    return count


async def untested(conn: asyncpg.Connection, lea: str, vendor: FakeVendor, **kw: object) -> UUID:
    return await add_connection(conn, lea, spec_for(vendor, **kw), tested=False)


async def test_queue_through_a_never_tested_connection_is_refused_saying_how_to_fix_it(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    connection_id = await untested(app_conn, release_district.lea, vendor)
    with pytest.raises(ConnectionNotReady) as refused:
        await queue(app_conn, stores, release_district, connection_id, release_district.free(1))
    message = str(refused.value)
    assert "it has never been tested" in message
    assert f"gateway vendor test {connection_id}" in message
    assert "Your connection is valid" in message
    assert await batches_through(app_conn, connection_id) == 0

    # Once a real test passes, the same request is queued.
    result = await check_connection(
        stores.control, SESSION_MASTER_KEYS, connection_id, ACTOR, timeouts=QUICK
    )
    assert result.ok
    await queue(app_conn, stores, release_district, connection_id, release_district.free(1))
    assert await batches_through(app_conn, connection_id) == 1


async def test_queue_after_a_failed_test_is_refused_with_the_failure(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    connection_id = await untested(
        app_conn, release_district.lea, vendor, upload_path="/no-such-path"
    )
    result = await check_connection(
        stores.control, SESSION_MASTER_KEYS, connection_id, ACTOR, timeouts=QUICK
    )
    assert not result.ok
    with pytest.raises(ConnectionNotReady) as refused:
        await queue(app_conn, stores, release_district, connection_id, release_district.free(1))
    assert "its latest test failed (The upload path was not found (404)" in str(refused.value)
    assert "Correct the connection, test it again" in str(refused.value)
    assert await batches_through(app_conn, connection_id) == 0


async def test_an_edit_after_a_valid_test_needs_a_new_test(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    spec = spec_for(vendor)
    connection_id = await add_connection(app_conn, release_district.lea, spec)  # tested valid
    await vendors.update(
        app_conn,
        SESSION_MASTER_KEYS,
        connection_id,
        vendors.ConnectionInput(**{**vars(spec), "upload_path": "/elsewhere", "password": ""}),
        ACTOR,
        allow_insecure=False,
    )
    with pytest.raises(ConnectionNotReady) as refused:
        await queue(app_conn, stores, release_district, connection_id, release_district.free(1))
    assert "it was changed after its last test" in str(refused.value)


async def test_a_result_is_not_stored_for_values_edited_while_it_ran(
    app_conn: asyncpg.Connection, release_district: ReleaseDistrict, vendor: FakeVendor
) -> None:
    spec = spec_for(vendor)
    connection_id = await untested(app_conn, release_district.lea, vendor)
    read_before = (await vendors.get(app_conn, connection_id))["updated_at"]
    await vendors.update(
        app_conn,
        SESSION_MASTER_KEYS,
        connection_id,
        vendors.ConnectionInput(**{**vars(spec), "password": wrong_secret()}),
        ACTOR,
        allow_insecure=False,
    )
    stored = await vendors.record_test(app_conn, connection_id, True, "ok", read_before)
    assert stored is False
    assert (await vendors.get(app_conn, connection_id))["last_test_ok"] is None


async def test_a_used_connection_is_retired_keeping_its_batches_and_an_unused_one_deleted(
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    used = await add_connection(app_conn, release_district.lea, spec_for(vendor))
    batch_id = await queue(app_conn, stores, release_district, used, release_district.free(1))

    with pytest.raises(Conflict) as kept:
        await vendors.remove(app_conn, used, ACTOR)
    assert "1 batch was released through" in str(kept.value)
    assert f"gateway vendor retire {used}" in str(kept.value)

    retired = await vendors.retire(app_conn, used, ACTOR)
    assert (retired["status"], retired["batches"]) == ("retired", 1)
    assert retired["retired_by"] == ACTOR.name
    again = await vendors.retire(app_conn, used, ACTOR)  # idempotent
    assert again["retired_at"] == retired["retired_at"]
    report = await load_report(app_conn, batch_id)  # its history stays readable
    assert report.total == 1
    with pytest.raises(ConnectionNotReady) as refused:
        await queue(app_conn, stores, release_district, used, release_district.free(1))
    assert "is retired" in str(refused.value)
    audited = await app_conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'outgoing.retire' AND target = $1",
        str(used),
    )
    assert audited == 1

    reinstated = await vendors.reinstate(app_conn, used, ACTOR)
    assert reinstated["status"] == "active" and reinstated["last_test_ok"] is None

    unused = await add_connection(app_conn, release_district.lea, spec_for(vendor))
    await vendors.remove(app_conn, unused, ACTOR)
    assert unused not in {c["connection_id"] for c in await vendors.list_connections(app_conn)}


async def test_cli_refuses_to_queue_untested_and_retires_a_used_connection(
    gateway_cli: Invoke,
    app_conn: asyncpg.Connection,
    stores: StoreRegistry,
    release_district: ReleaseDistrict,
    vendor: FakeVendor,
) -> None:
    lea = release_district.lea
    connection_id = await untested(app_conn, lea, vendor)
    student = release_district.free(1)[0]
    args = ["release", "queue", "--district", lea, "--connection", str(connection_id)]
    refused = await gateway_cli(*args, "--students", student, ok=False)
    assert refused.exit_code == 1
    assert "never been tested" in refused.stderr
    assert f"gateway vendor test {connection_id}" in refused.stderr
    assert await batches_through(app_conn, connection_id) == 0

    await gateway_cli("vendor", "test", str(connection_id))
    await gateway_cli(*args, "--students", student)

    removal = await gateway_cli("vendor", "remove", str(connection_id), ok=False)
    assert removal.exit_code == 1
    assert f"gateway vendor retire {connection_id}" in removal.stderr
    retired = json.loads(
        (await gateway_cli("vendor", "retire", str(connection_id), "--json")).stdout
    )
    assert retired["status"] == "retired" and retired["batches"] == 1
    listed = json.loads((await gateway_cli("vendor", "list", "--district", lea, "--json")).stdout)
    assert {c["connection_id"]: c["status"] for c in listed}[str(connection_id)] == "retired"
