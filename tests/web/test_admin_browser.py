"""An operator in headless Chromium: signs in, adds a district and a consumer, creates an
incoming connection and sees the Information to Share once (the secret works at the token
endpoint), adds an outgoing connection after seeing the validation errors. Screenshots of the
key pages go to tests/artifacts/screenshots/ (see tests/web/browser.py)."""

from __future__ import annotations

import re
import secrets

import asyncpg
import httpx
import pytest

from gateway.control import users, vendors
from tests.conftest import unique_lea
from tests.factories import CONSUMER_ACTOR, token_response
from tests.secrets_seen import remember
from tests.web.browser import (
    PHONE,
    LiveServer,
    fits_width,
    missing_browser,
    screenshot,
    sign_in,
    skip_reason,
)
from tests.web.conftest import NewContext

if skip_reason():
    pytest.skip(skip_reason() or "", allow_module_level=True)
try:
    from playwright.async_api import Page, expect
except ImportError:
    pytest.fail(missing_browser() or "playwright is missing", pytrace=False)

pytestmark = pytest.mark.browser

PASSWORD = "operator console passphrase 9"


@pytest.fixture
async def operator_email(control: asyncpg.Connection) -> str:
    email = f"ops-{unique_lea().lower()}@dpi.example.gov"
    await users.add(
        control,
        email=email,
        role="operator",
        lea_code=None,
        password=PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    return email


async def signed_in(page: Page, email: str) -> None:
    await sign_in(page, email, PASSWORD)
    for cookie in await page.context.cookies():
        remember(cookie["value"])


async def add_district(page: Page) -> str:
    lea = unique_lea()
    await page.goto("/admin/districts")
    await page.get_by_label("LEA code", exact=True).fill(lea)
    await page.get_by_label("Name", exact=True).fill(f"Browser County {lea}")
    await page.get_by_label("Kind", exact=True).select_option("lea")
    await page.get_by_role("button", name="Add district").click()
    await expect(page).to_have_url(re.compile(rf"/admin/districts/{lea}\?notice=district-added$"))
    await expect(page.get_by_role("status")).to_have_text("District added.")
    return lea


async def add_consumer(page: Page) -> str:
    name = f"CFNC {secrets.token_hex(3)}"
    await page.goto("/admin/consumers")
    await page.get_by_label("Name", exact=True).fill(name)
    await page.get_by_role("button", name="Add consumer").click()
    await expect(page.get_by_role("status")).to_have_text("Consumer added.")
    return name


async def test_operator_creates_an_incoming_connection_and_shares_it_once(
    page: Page, live_server: LiveServer, operator_email: str
) -> None:
    await signed_in(page, operator_email)
    await expect(page).to_have_url(re.compile(r"/admin/districts$"))
    consumer = await add_consumer(page)
    lea = await add_district(page)
    await expect(page.get_by_role("table", name="Incoming Connections")).to_contain_text(
        "No records available."
    )
    await screenshot(page, "admin-district-empty")

    await page.get_by_role("link", name="New incoming connection").click()
    await page.get_by_label("Name", exact=True).fill("CFNC transcripts")
    await page.get_by_label("Consumer").select_option(consumer)
    await page.get_by_role("button", name="Create connection").click()
    await expect(page.get_by_role("heading", name="Information to Share")).to_be_visible()
    secret = (await page.locator("#share-secret").inner_text()).strip()
    client_id = (await page.locator("#share-id").inner_text()).strip()
    remember(secret)
    await expect(page.locator("#share-url")).to_have_text(
        f"{live_server.base_url}/api/v1/districts/{lea}/etranscripts"
    )
    await expect(page.get_by_role("button", name="Copy")).to_have_count(4)
    await screenshot(page, "admin-information-to-share")

    async with httpx.AsyncClient(base_url=live_server.base_url) as api:
        assert (await token_response(api, client_id, secret)).status_code == 200

    await page.get_by_role("link", name="Save").click()
    await expect(page).to_have_url(re.compile(rf"/admin/districts/{lea}\?notice=incoming-saved$"))
    incoming = page.get_by_role("table", name="Incoming Connections")
    await expect(incoming).to_contain_text(client_id)
    await expect(incoming).to_contain_text("••••••••")
    assert secret not in await page.content()
    await screenshot(page, "admin-district")


async def test_a_reload_of_the_information_to_share_issues_no_second_credential(
    page: Page, operator_email: str, control: asyncpg.Connection
) -> None:
    await signed_in(page, operator_email)
    consumer = await add_consumer(page)
    lea = await add_district(page)
    await page.get_by_role("link", name="New incoming connection").click()
    await page.get_by_label("Name", exact=True).fill("CFNC reloaded")
    await page.get_by_label("Consumer").select_option(consumer)
    await page.get_by_role("button", name="Create connection").click()
    await expect(page.get_by_role("heading", name="Information to Share")).to_be_visible()
    secret = (await page.locator("#share-secret").inner_text()).strip()
    remember(secret)

    # The browser re-posts the form (a reload of a POST answer); the gateway recognises it.
    await page.reload()
    await expect(page).to_have_url(
        re.compile(rf"/admin/districts/{lea}\?notice=incoming-already-created$")
    )
    await expect(page.get_by_role("status")).to_contain_text("This form was already sent")
    assert secret not in await page.content()  # shown once, never again
    listed = [c for c in await credentials_of(control, lea) if c["status"] == "active"]
    assert len(listed) == 1, listed


async def credentials_of(control: asyncpg.Connection, lea: str) -> list[dict[str, object]]:
    from gateway.control import credentials

    return await credentials.list_credentials(control, lea)


async def test_operator_sees_outgoing_validation_errors_then_saves(
    page: Page, new_context: NewContext, operator_email: str, control: asyncpg.Connection
) -> None:
    await signed_in(page, operator_email)
    lea = await add_district(page)
    await page.get_by_role("link", name="New outgoing connection").click()
    await page.get_by_label("Name", exact=True).fill("Parchment")
    await page.get_by_label("Auth Server").fill("not a url")
    await page.get_by_label("Auth Path").fill("/oauth/token")
    await page.get_by_label("Upload Server").fill("https://upload.parchment.example")
    await page.get_by_label("Upload Port").fill("70000")
    await page.get_by_label("Upload Path").fill("/api/v1/transcripts")
    await page.get_by_label("Consumer Key").fill("nc-dpi")
    consumer_secret, password = f"cs-{secrets.token_hex(8)}", f"pw-{secrets.token_hex(8)}"
    remember(consumer_secret, password)
    await page.get_by_label("Consumer Secret").fill(consumer_secret)
    await page.get_by_label("User Name").fill("u" * 101)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Save").click()

    await expect(page.get_by_role("alert")).to_be_visible()
    for label, message in (
        ("Auth Server", "A URL with scheme and host"),
        ("Upload Port", "A port number from 1 to 65535"),
        ("User Name", "At most 100 characters"),
    ):
        field = page.get_by_label(label)
        await expect(field).to_have_attribute("aria-invalid", "true")
        described = await field.get_attribute("aria-describedby") or ""
        assert message in await page.locator(f"#{described.split()[-1]}").inner_text()
    await expect(page.get_by_label("Auth Server")).to_have_value("not a url")
    await expect(page.get_by_label("Consumer Secret")).to_have_value("")
    assert password not in await page.content() and consumer_secret not in await page.content()
    await screenshot(page, "admin-outgoing-errors")
    assert await vendors.list_connections(control, lea) == []

    await page.get_by_label("Auth Server").fill("https://auth.parchment.example")
    await page.get_by_label("Upload Port").fill("443")
    await page.get_by_label("User Name").fill("ncdpi")
    await page.get_by_label("Consumer Secret").fill(consumer_secret)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Save").click()
    await expect(page.get_by_role("status")).to_have_text("Outgoing connection added.")
    await expect(page.get_by_role("table", name="Outgoing Connections")).to_contain_text(
        "https://upload.parchment.example"
    )

    # Readable on a phone: the page does not scroll sideways (wide tables scroll in their box).
    phone = await (await new_context(viewport=PHONE)).new_page()
    await signed_in(phone, operator_email)
    await phone.goto(f"/admin/districts/{lea}")
    assert await fits_width(phone)
    await screenshot(phone, "admin-district-phone")


async def test_suspend_asks_for_confirmation(page: Page, operator_email: str) -> None:
    await signed_in(page, operator_email)
    lea = await add_district(page)
    asked: list[str] = []

    async def dismiss_then_accept(dialog: object) -> None:
        from playwright.async_api import Dialog

        assert isinstance(dialog, Dialog)
        asked.append(dialog.message)
        await (dialog.dismiss() if len(asked) == 1 else dialog.accept())

    page.on("dialog", dismiss_then_accept)
    await page.get_by_role("button", name="Suspend district").click()
    await expect(page).to_have_url(re.compile(rf"/admin/districts/{lea}\?notice=district-added$"))
    await page.get_by_role("button", name="Suspend district").click()
    await expect(page.get_by_role("status")).to_contain_text("District suspended")
    assert len(asked) == 2 and f"Suspend {lea}?" in asked[0]
