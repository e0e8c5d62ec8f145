"""The district's read-only batch pages: its own batches and their eTranscript Batch Report
(lines, CSV, progress JSON), no forms, and every other district's batch a 404."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest
from starlette.applications import Starlette

from gateway.outgoing.batches import BatchRequest, queue_batch
from gateway.settings import Settings
from tests.factories import CONSUMER_ACTOR
from tests.outgoing.fake_vendor import FakeVendor
from tests.web.conftest import signed_in_client
from tests.web.release_world import ReleaseWorld, delivered
from tests.web.test_admin_batches import assert_csv_matches, counts, line_rows


@pytest.fixture
async def registrar(
    gateway_app: Starlette, app_settings: Settings, release_world: ReleaseWorld
) -> AsyncIterator[httpx.AsyncClient]:
    w = release_world
    async with signed_in_client(
        gateway_app, app_settings, "198.51.100.62", w.district_email, w.password
    ) as client:
        yield client


@pytest.fixture
async def batch_id(
    release_world: ReleaseWorld,
    vendor: FakeVendor,
    gateway_app: Starlette,
    control: asyncpg.Connection,
) -> int:
    """A batch of the district, delivered: two students through the valid connection."""
    w = release_world
    request = BatchRequest(str(w.valid), w.students[2:4])
    stores = gateway_app.state.services.stores
    batch = await queue_batch(control, stores, w.district, request, CONSUMER_ACTOR)
    report = await delivered(gateway_app, batch["batch_id"])
    assert report.counts["delivered"] == 2
    queued: int = batch["batch_id"]
    return queued


async def test_the_district_lists_its_batches_and_reads_each_report(
    registrar: httpx.AsyncClient,
    release_world: ReleaseWorld,
    batch_id: int,
    control: asyncpg.Connection,
) -> None:
    w = release_world
    listing = await registrar.get(f"/districts/{w.lea}/batches")
    assert listing.status_code == 200
    assert "<h1>Batch reports</h1>" in listing.text
    href = f"/districts/{w.lea}/batches/{batch_id}"
    assert f'href="{href}"' in listing.text
    assert f"/batches/{w.other_batch}" not in listing.text

    page = await registrar.get(href)
    assert page.status_code == 200
    html = page.text
    assert f"eTranscript Batch Report: batch {batch_id}" in html
    assert counts(html) == {"queued": 0, "in_progress": 0, "delivered": 2, "failed": 0}
    assert [r[1:3] for r in line_rows(html)] == [[s, "Delivered"] for s in w.students[2:4]]
    assert w.valid_name in html and "List of 2 students" in html
    # Read-only: the only form on the page is the sign-out button's.
    assert re.findall(r"<form[^>]*>", html) == [
        '<form class="signout" method="post" action="/logout">'
    ]
    assert "<textarea" not in html
    progress = (await registrar.get(href, params={"format": "json"})).json()
    assert (progress["finished"], progress["done"], progress["total"]) == (True, 2, 2)
    await assert_csv_matches(registrar, href, batch_id, control)


async def test_another_districts_batch_is_not_found_however_it_is_asked_for(
    registrar: httpx.AsyncClient, release_world: ReleaseWorld
) -> None:
    w = release_world
    for path in (
        f"/districts/{w.lea}/batches/{w.other_batch}",
        f"/districts/{w.lea}/batches/{w.other_batch}?format=csv",
        f"/districts/{w.lea}/batches/{w.other_batch}?format=json",
        f"/districts/{w.other.lea_code}/batches/{w.other_batch}",
        f"/districts/{w.other.lea_code}/batches",
        f"/districts/{w.lea}/batches/not-a-number",
        f"/districts/{w.lea}/batches/99999999999",
    ):
        response = await registrar.get(path)
        assert response.status_code == 404, path
        assert w.other.name not in response.text


async def test_an_operator_sees_the_district_pages_of_any_batch(
    gateway_app: Starlette, app_settings: Settings, release_world: ReleaseWorld, batch_id: int
) -> None:
    w = release_world
    async with signed_in_client(
        gateway_app, app_settings, "198.51.100.63", w.operator_email, w.password
    ) as operator:
        mine = await operator.get(f"/districts/{w.lea}/batches/{batch_id}")
        assert mine.status_code == 200
        theirs = await operator.get(f"/districts/{w.other.lea_code}/batches/{w.other_batch}")
        assert theirs.status_code == 200
        # Still through the batch's own district only.
        crossed = await operator.get(f"/districts/{w.lea}/batches/{w.other_batch}")
        assert crossed.status_code == 404
