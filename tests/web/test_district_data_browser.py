"""An operator in headless Chromium uploads a district's bundle on the District data page,
watches the load finish, and the district's page shows when its records were refreshed."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import asyncpg
import pytest

from gateway.control import users
from tenants.loading.template import write_template
from tests.conftest import unique_lea
from tests.factories import CONSUMER_ACTOR, add_district
from tests.secrets_seen import remember
from tests.web.browser import missing_browser, screenshot, sign_in, skip_reason

if skip_reason():
    pytest.skip(skip_reason() or "", allow_module_level=True)
try:
    from playwright.async_api import Page, expect
except ImportError:
    pytest.fail(missing_browser() or "playwright is missing", pytrace=False)

pytestmark = pytest.mark.browser

PASSWORD = "district data console passphrase 3"


async def test_an_operator_uploads_a_bundle_and_sees_the_load_finish_and_the_refresh_time(
    page: Page, control: asyncpg.Connection, owner_conn: asyncpg.Connection, tmp_path: Path
) -> None:
    email = f"ops-{unique_lea().lower()}@dpi.example.gov"
    await users.add(
        control,
        email=email,
        role="operator",
        lea_code=None,
        password=PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    district = await add_district(owner_conn, unique_lea())
    write_template(tmp_path / "bundle", example=True)
    archive = tmp_path / "example-bundle.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for file in sorted((tmp_path / "bundle").iterdir()):
            zf.write(file, file.name)

    await sign_in(page, email, PASSWORD)
    for cookie in await page.context.cookies():
        remember(cookie["value"])
    await page.goto(f"/admin/districts/{district.lea_code}")
    await page.get_by_role("link", name="District data").click()
    await expect(page.get_by_role("heading", name=re.compile("^District data"))).to_be_visible()
    await expect(page.locator("[data-students]")).to_have_text("0")
    await page.get_by_label("File").set_input_files(str(archive))
    await page.get_by_role("button", name="Upload and load").click()

    # The load's page reloads itself while the load runs.
    await expect(page).to_have_url(
        re.compile(rf"/admin/districts/{district.lea_code}/data/[0-9a-f-]{{36}}$")
    )
    await expect(page.locator("[data-load-status]")).to_have_text("succeeded", timeout=60_000)
    await expect(page.get_by_role("table", name="Rows")).to_contain_text("course_records")
    await screenshot(page, "admin-district-load")

    await page.get_by_role("link", name=re.compile("District data of")).click()
    await expect(page.locator("[data-students]")).to_have_text("3")
    await expect(page.get_by_role("table", name="Latest loads")).to_contain_text(
        "example-bundle.zip"
    )

    await page.goto(f"/districts/{district.lea_code}/setup")
    banner = page.locator("[data-district-data]")
    await expect(banner).to_contain_text("3 students")
    refreshed = await banner.locator("[data-refreshed-at]").inner_text()
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", refreshed), refreshed
    await screenshot(page, "district-setup-refreshed")
