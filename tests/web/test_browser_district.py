"""A district user in headless Chromium: signs in, reads the setup, cannot write or wander."""

from __future__ import annotations

import csv
import io
import re
from typing import TYPE_CHECKING

import pytest

from gateway.web.district import disclosures as log
from gateway.web.district.setup import SECRET_MASK
from tests.secrets_seen import remember
from tests.web.browser import PHONE, LiveServer, fits_width, screenshot, sign_in
from tests.web.conftest import DistrictWorld, NewContext

if TYPE_CHECKING:
    from playwright.async_api import Page
try:
    from playwright.async_api import expect
except ImportError:  # the `browser` fixture fails (or skips) these tests, saying why
    expect = None  # type: ignore[assignment]

pytestmark = pytest.mark.browser


async def signed_in(page: Page, w: DistrictWorld) -> None:
    await sign_in(page, w.district_email, w.password)
    for cookie in await page.context.cookies():
        remember(cookie["value"])


async def assert_nothing_to_submit(page: Page) -> None:
    """The only form that posts is sign-out; any other form is a GET (the log's filters)."""
    methods = await page.locator("form").evaluate_all(
        "forms => forms.map(f => [f.getAttribute('action'), f.method])"
    )
    posting = [action for action, method in methods if method != "get"]
    assert posting == ["/logout"]


async def test_district_user_sees_both_tables_with_masked_secrets(
    page: Page, district_world: DistrictWorld
) -> None:
    w = district_world
    await signed_in(page, w)
    await expect(page).to_have_url(re.compile(rf"/districts/{w.lea}/setup$"))
    await expect(
        page.get_by_role("heading", name="Electronic Release Setup", level=1)
    ).to_be_visible()
    outgoing = page.get_by_role("table", name="Outgoing Connections")
    incoming = page.get_by_role("table", name="Incoming Connections")
    await expect(outgoing.get_by_role("row")).to_have_count(2)  # header and Parchment
    await expect(outgoing).to_contain_text("https://upload.parchment.example")
    await expect(incoming.get_by_role("row")).to_have_count(3)  # header and two credentials
    await expect(incoming).to_contain_text(w.first.client_id)
    await expect(incoming.get_by_text(SECRET_MASK)).to_have_count(2)
    html = await page.content()
    for secret in w.secrets():
        assert secret not in html
    await assert_nothing_to_submit(page)
    await screenshot(page, "district-setup")


async def test_rows_open_their_details_by_click_and_by_keyboard(
    page: Page, district_world: DistrictWorld
) -> None:
    w = district_world
    await signed_in(page, w)
    # A click anywhere on the row (here: not on its link) opens the details.
    await page.get_by_role("cell", name="https://auth.parchment.example").click()
    await expect(page).to_have_url(re.compile(rf"/setup/outgoing/{w.vendor.connection_id}$"))
    await expect(page.locator("dl.details")).to_contain_text("/api/v1/transcripts")
    await expect(page.locator("dl.details .masked")).to_have_count(2)
    html = await page.content()
    assert w.vendor.password not in html and w.vendor.consumer_secret not in html
    await assert_nothing_to_submit(page)
    await screenshot(page, "district-outgoing-connection")

    # The keyboard: Tab reaches the incoming row, and Enter opens it.
    await page.goto(f"/districts/{w.lea}/setup")
    target = f"/districts/{w.lea}/setup/incoming/{w.first.client_id}"
    for _ in range(40):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("() => document.activeElement.dataset.href || ''")
        if focused == target:
            break
    else:
        pytest.fail("the incoming connection's row is not reachable with Tab")
    await page.keyboard.press("Enter")
    await expect(page).to_have_url(re.compile(f"{re.escape(target)}$"))
    details = page.locator("dl.details")
    await expect(details).to_contain_text(f"/api/v1/districts/{w.lea}/etranscripts")
    await expect(details).to_contain_text("/oauth2/token")
    await expect(details).to_contain_text(SECRET_MASK)
    await screenshot(page, "district-incoming-connection")


async def test_another_district_is_not_found(page: Page, district_world: DistrictWorld) -> None:
    w = district_world
    await signed_in(page, w)
    for path in (
        f"/districts/{w.other_lea}/setup",
        f"/districts/{w.lea}/setup/incoming/{w.other_credential.client_id}",
    ):
        response = await page.goto(path)
        assert response is not None and response.status == 404
        await expect(page.get_by_role("heading", name="Not found")).to_be_visible()
        assert w.other_credential.client_id not in await page.content()


async def test_every_write_is_refused(page: Page, district_world: DistrictWorld) -> None:
    w = district_world
    await signed_in(page, w)
    token = await page.locator("form.signout input[name=csrf_token]").input_value()
    form: dict[str, str | float | bool] = {"csrf_token": token, "name": "Changed by a district"}
    for path in (
        f"/districts/{w.lea}/setup",
        f"/districts/{w.lea}/setup/outgoing/{w.vendor.connection_id}",
        f"/districts/{w.lea}/setup/incoming/{w.first.client_id}",
        f"/districts/{w.lea}/disclosures",
        "/admin/districts",
    ):
        response = await page.request.post(path, form=form)
        assert response.status == 403, path
        response = await page.request.fetch(path, method="DELETE")
        assert response.status == 403, path
    # Still signed in, still read-only: the setup is unchanged.
    await page.goto(f"/districts/{w.lea}/setup")
    await expect(page.get_by_role("link", name="Parchment", exact=True)).to_be_visible()


async def test_disclosures_filter_and_paginate(page: Page, district_world: DistrictWorld) -> None:
    w = district_world
    await signed_in(page, w)
    await (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Disclosures").click()
    )
    await expect(page.get_by_role("status")).to_contain_text(f"Showing 1–50 of {w.disclosures}")
    rows = page.get_by_role("table").locator("tbody tr")
    await expect(rows).to_have_count(log.PAGE_SIZE)
    await assert_nothing_to_submit(page)
    await screenshot(page, "district-disclosures", full_page=False)

    await page.get_by_role("link", name="Next page").click()
    await expect(rows).to_have_count(w.disclosures - log.PAGE_SIZE)

    student = w.disclosed[0]
    await page.get_by_label("Student ID").fill(student)
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(w.disclosed.count(student))
    await expect(page.get_by_role("status")).to_contain_text("matching the filters")
    await page.get_by_label("Student ID").fill("")
    await page.get_by_label("Consumer").fill("Common App")
    await page.get_by_role("button", name="Filter").click()
    await expect(rows).to_have_count(w.by_second)


async def test_csv_export_downloads(page: Page, district_world: DistrictWorld) -> None:
    w = district_world
    await signed_in(page, w)
    await page.goto(f"/districts/{w.lea}/disclosures?consumer=CFNC")
    async with page.expect_download() as info:
        await page.get_by_role("link", name="Download CSV").click()
    download = await info.value
    assert re.fullmatch(rf"disclosures-{w.lea}-\d{{8}}T\d{{6}}Z\.csv", download.suggested_filename)
    path = await download.path()
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert len(rows) == w.disclosures - w.by_second
    assert list(rows[0]) == list(log.CSV_COLUMNS)


async def test_phone_shows_the_pages_without_sideways_scrolling(
    new_context: NewContext, district_world: DistrictWorld, live_server: LiveServer
) -> None:
    w = district_world
    page = await (await new_context(viewport=PHONE)).new_page()
    await signed_in(page, w)
    for path, name, whole in (
        (f"/districts/{w.lea}/setup", "district-setup-phone", True),
        (
            f"/districts/{w.lea}/setup/outgoing/{w.vendor.connection_id}",
            "district-outgoing-connection-phone",
            True,
        ),
        (f"/districts/{w.lea}/disclosures", "district-disclosures-phone", False),  # 50 rows long
    ):
        await page.goto(live_server.url(path))
        assert await fits_width(page), f"{path} scrolls sideways on a phone"
        await screenshot(page, name, full_page=whole)
