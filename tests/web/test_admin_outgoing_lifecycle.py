"""The console's outgoing connections, issue 11: a batch is offered only through a connection
whose latest test is valid (else the page says why and how to fix it), and one that batches
used is retired, keeping its history, where Delete used to end on a bare Conflict page."""

from __future__ import annotations

import asyncio
import html as html_lib
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import httpx
import pytest

from gateway.control import vendors
from tests.admin.conftest import close_open_batches
from tests.conftest import unique_lea
from tests.factories import add_district, add_student
from tests.outgoing.conftest import add_connection, spec_for
from tests.outgoing.fake_vendor import FakeVendor
from tests.web.test_admin_pages import Console, sign_in_operator

STUDENT = "8100000001"


@pytest.fixture
async def console(client: httpx.AsyncClient, control: asyncpg.Connection) -> Console:
    return await sign_in_operator(client, control)


@pytest.fixture
async def lea(owner_conn: asyncpg.Connection, control: asyncpg.Connection) -> AsyncIterator[str]:
    district = await add_district(owner_conn, unique_lea())
    await add_student(owner_conn, district.id, STUDENT)
    yield district.lea_code
    await close_open_batches(control, district.id)  # never delivered: out of the shared queue


def text(response: httpx.Response) -> str:
    return html_lib.unescape(response.text)


async def test_an_untested_connection_offers_no_release_and_says_how_to_fix_it(
    console: Console, control: asyncpg.Connection, lea: str, vendor: FakeVendor
) -> None:
    connection_id = await add_connection(control, lea, spec_for(vendor), tested=False)
    page = text(await console.get(f"/admin/districts/{lea}"))
    assert f'name="connection" value="{connection_id}"' not in page  # no release form
    assert "it has never been tested" in page and f"gateway vendor test {connection_id}" in page

    # A form posted anyway (an old tab) is refused with the reason, and nothing is queued.
    refused = await console.post(
        f"/admin/districts/{lea}/batches", connection=str(connection_id), students=STUDENT
    )
    assert refused.status_code == 409
    assert "it has never been tested" in text(refused)
    queued = await control.fetchval(
        "SELECT count(*) FROM release_batches WHERE connection_id = $1", connection_id
    )
    assert queued == 0

    tested = await console.post(f"/admin/outgoing/{connection_id}/test")
    assert tested.status_code in (202, 303)
    await wait_tested(control, connection_id)
    page = text(await console.get(f"/admin/districts/{lea}"))
    assert f'name="connection" value="{connection_id}"' in page
    released = await console.post(
        f"/admin/districts/{lea}/batches", connection=str(connection_id), students=STUDENT
    )
    assert released.status_code == 303


async def wait_tested(control: asyncpg.Connection, connection_id: UUID) -> None:
    """The Test button runs in the background; wait for its stored result (no time budget:
    the probe's own timeouts end it)."""
    while (await vendors.get(control, connection_id))["last_test_at"] is None:
        await asyncio.sleep(0.05)


async def test_a_used_connection_is_retired_from_the_console_keeping_its_history(
    console: Console, control: asyncpg.Connection, lea: str, vendor: FakeVendor
) -> None:
    connection_id = await add_connection(control, lea, spec_for(vendor, name="Used vendor"))
    released = await console.post(
        f"/admin/districts/{lea}/batches", connection=str(connection_id), students=STUDENT
    )
    assert released.status_code == 303
    batch_path = released.headers["location"].split("?")[0]
    base = f"/admin/districts/{lea}/outgoing/{connection_id}"

    district_page = text(await console.get(f"/admin/districts/{lea}"))
    assert f'href="{base}/delete">Retire' in district_page
    confirm = text(await console.get(f"{base}/delete"))
    assert "Retire outgoing connection “Used vendor”?" in confirm
    assert "1 batch was released through it" in confirm
    assert f'action="{base}/retire"' in confirm

    # A Delete posted anyway (an old tab) answers the same choice, not a bare Conflict page.
    deleted = await console.post(f"{base}/delete")
    assert deleted.status_code == 409
    assert f'action="{base}/retire"' in deleted.text and "Retire connection" in deleted.text

    retired = await console.post(f"{base}/retire")
    assert retired.status_code == 303
    assert retired.headers["location"] == f"/admin/districts/{lea}?notice=outgoing-retired"
    after = text(await console.get(retired.headers["location"]))
    assert "Outgoing connection retired" in after and "Retired" in after
    assert f'name="connection" value="{connection_id}"' not in after
    assert "is retired: no new batch can use it" in after
    assert (await console.get(batch_path)).status_code == 200  # its report stays


async def test_an_unused_connection_is_still_deleted(
    console: Console, control: asyncpg.Connection, lea: str, vendor: FakeVendor
) -> None:
    connection_id = await add_connection(control, lea, spec_for(vendor, name="Spare"))
    base = f"/admin/districts/{lea}/outgoing/{connection_id}"
    assert "Delete outgoing connection “Spare”?" in text(await console.get(f"{base}/delete"))
    deleted = await console.post(f"{base}/delete")
    assert deleted.status_code == 303
    assert await vendors.list_connections(control, lea) == []
