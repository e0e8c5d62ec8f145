"""In headless Chromium: the Test button says "Test initiated", then "Your connection is
valid", and for a wrong password "Connection failed" with the reason; the district's read-only
setup then shows the stored result and its time. Without JavaScript the button still works.
An operator releases a batch from the district's page and watches its report fill in; the
district reads the same report. Screenshots go to tests/artifacts/screenshots/."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from starlette.applications import Starlette

from gateway.outgoing.worker import Worker
from tests.conftest import SESSION_MASTER_KEYS
from tests.outgoing.conftest import worker_config
from tests.outgoing.fake_vendor import FakeVendor, Faults
from tests.secrets_seen import remember
from tests.web.browser import missing_browser, screenshot, sign_in, skip_reason
from tests.web.conftest import NewContext
from tests.web.release_world import ReleaseWorld

if skip_reason():
    pytest.skip(skip_reason() or "", allow_module_level=True)
try:
    from playwright.async_api import Page, expect
except ImportError:
    pytest.fail(missing_browser() or "playwright is missing", pytrace=False)

pytestmark = pytest.mark.browser

# Long enough that "Test initiated" is on screen for a while; far below the probe's timeouts.
SLOW_TOKEN = Faults(token_delay=0.8)


async def signed_in(page: Page, email: str, password: str) -> None:
    await sign_in(page, email, password)
    for cookie in await page.context.cookies():
        remember(cookie["value"])


async def test_test_button_initiated_then_valid_and_failed_for_a_wrong_password(
    page: Page, new_context: NewContext, release_world: ReleaseWorld, vendor: FakeVendor
) -> None:
    w = release_world
    vendor.reset(SLOW_TOKEN)
    await signed_in(page, w.operator_email, w.password)
    await page.goto(f"/admin/districts/{w.lea}")

    valid = page.locator(f"#test-{w.valid}")
    await expect(valid).to_have_attribute("aria-live", "polite")
    await page.get_by_role("button", name=f"Test {w.valid_name}").click()
    await expect(valid).to_contain_text("Test initiated")
    await expect(valid).to_contain_text("Your connection is valid")

    wrong = page.locator(f"#test-{w.wrong}")
    await page.get_by_role("button", name=f"Test {w.wrong_name}").focus()
    await page.keyboard.press("Enter")  # the keyboard works as well as the mouse
    await expect(wrong).to_contain_text("Test initiated")
    await expect(wrong).to_contain_text("Connection failed: 401 from the auth server")
    assert page.url.endswith(f"/admin/districts/{w.lea}"), "updated in place, no navigation"
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    await expect(valid).to_contain_text(today)
    await page.locator("#outgoing-heading").scroll_into_view_if_needed()
    await screenshot(page, "admin-connection-test")

    # The connection's own page has the button too, with the vendor's whole sentence below.
    await page.get_by_role("link", name=w.wrong_name, exact=True).click()
    result = page.locator("#test-result")
    await expect(result).to_contain_text("Connection failed: 401 from the auth server")
    await page.get_by_role("button", name=f"Test {w.wrong_name}").click()
    await expect(result).to_contain_text("Test initiated")
    await expect(result).to_contain_text("Connection failed: 401 from the auth server")
    await expect(page.locator('[data-test-message-for="test-result"]')).to_contain_text(
        "the user name or password was refused"
    )

    registrar = await (await new_context()).new_page()
    await signed_in(registrar, w.district_email, w.password)
    await registrar.goto(f"/districts/{w.lea}/setup")
    rows = registrar.get_by_role("table", name="Outgoing Connections").get_by_role("row")
    for name, outcome in (
        (w.valid_name, "Your connection is valid"),
        (w.wrong_name, "Connection failed"),
    ):
        row = rows.filter(has_text=name)
        await expect(row).to_contain_text(outcome)
        await expect(row).to_contain_text(today)
    await screenshot(registrar, "district-setup-tested")


async def test_without_javascript_the_test_button_posts_and_the_page_follows(
    new_context: NewContext, release_world: ReleaseWorld, vendor: FakeVendor
) -> None:
    w = release_world
    vendor.reset(SLOW_TOKEN)
    page = await (await new_context(java_script_enabled=False)).new_page()
    await signed_in(page, w.operator_email, w.password)
    await page.goto(f"/admin/districts/{w.lea}")

    await page.get_by_role("button", name=f"Test {w.valid_name}").click()

    await expect(page).to_have_url(re.compile(rf"/outgoing/{w.valid}#connection-test$"))
    result = page.locator("#test-result")
    await expect(result).to_have_text("Test initiated")
    for _ in range(40):
        if "Test initiated" not in await result.inner_text():
            break
        await page.wait_for_timeout(250)
        await page.get_by_role("link", name="Reload to see the result").click()
    await expect(result).to_contain_text("Your connection is valid")
    await expect(
        page.get_by_text("Token obtained; the upload endpoint answered 204")
    ).to_be_visible()
    await screenshot(page, "admin-connection-page-tested")


async def test_operator_releases_a_batch_and_watches_its_report(
    page: Page,
    new_context: NewContext,
    release_world: ReleaseWorld,
    vendor: FakeVendor,
    gateway_app: Starlette,
) -> None:
    w = release_world
    students = w.students[:3]
    await signed_in(page, w.operator_email, w.password)
    await page.goto(f"/admin/districts/{w.lea}")
    await page.locator(f"#students-{w.valid}").fill("\n".join(students))
    await page.get_by_role("button", name=f"Release transcripts through {w.valid_name}").click()

    await expect(page).to_have_url(re.compile(r"/admin/batches/\d+\?notice=queued$"))
    batch_id = int(re.findall(r"/admin/batches/(\d+)", page.url)[0])
    await expect(page.locator('[data-count="queued"]')).to_have_text("3")
    state = page.locator("[data-batch-state]")
    await expect(state).to_have_text("Running: the counts follow the batch as it goes.")

    releaser = Worker(gateway_app.state.services.stores, SESSION_MASTER_KEYS, worker_config())
    await releaser.start()
    try:
        await expect(page.locator('[data-count="delivered"]')).to_have_text("3")
        await expect(state).to_contain_text("Finished: 3 delivered, 0 failed.")
    finally:
        await releaser.stop()
    await state.get_by_role("link", name="Show the final lines").click()
    lines = page.get_by_role("table", name="Students")
    for student in students:
        await expect(lines.get_by_role("row").filter(has_text=student)).to_contain_text("Delivered")
    assert len(vendor.documents) == 3
    await screenshot(page, "admin-batch-report")

    registrar = await (await new_context()).new_page()
    await signed_in(registrar, w.district_email, w.password)
    await registrar.goto(f"/districts/{w.lea}/batches")
    await registrar.get_by_role("link", name=f"Batch {batch_id}", exact=True).click()
    await expect(registrar.get_by_role("heading", level=1)).to_have_text(
        f"eTranscript Batch Report: batch {batch_id}"
    )
    await expect(registrar.locator('[data-count="delivered"]')).to_have_text("3")
    await expect(registrar.get_by_role("button", name="Release transcripts")).to_have_count(0)
    await screenshot(registrar, "district-batch-report")
