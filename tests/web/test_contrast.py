"""Every state of every control keeps its label readable (issue 11): for each link, button,
input and select of the console's pages, the text's contrast against what is behind it is
measured in Chromium at rest, under the mouse (:hover) and with keyboard focus, and must be at
least 4.5:1 (WCAG 2.2, 1.4.3). A secondary button once lost its label on hover (navy on navy,
about 1.3:1)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gateway.control import credentials, users, vendors
from tests.conftest import SESSION_MASTER_KEYS, unique_lea
from tests.factories import CONSUMER_ACTOR, add_consumer, add_district
from tests.secrets_seen import remember
from tests.web.browser import missing_browser, sign_in, skip_reason

if skip_reason():
    pytest.skip(skip_reason() or "", allow_module_level=True)
try:
    from playwright.async_api import Page
except ImportError:
    pytest.fail(missing_browser() or "playwright is missing", pytrace=False)

pytestmark = pytest.mark.browser

PASSWORD = "contrast checking passphrase 4"
MEASURE = (Path(__file__).parent / "contrast.js").read_text()
CONTROLS = "a[href], button, input:not([type=hidden]), select, textarea, summary"
MINIMUM = 4.5
# Controls of one look (tag, classes, type) share their colours: a few of each are measured,
# so a page listing hundreds of rows costs no more than one listing ten.
PER_LOOK = 3
FOCUS_STOPS = 60
LOOK = "e => [e.tagName, e.className, e.getAttribute('type') || ''].join('|')"


async def measure(page: Page, handle: Any) -> dict[str, Any]:
    result: dict[str, Any] = await handle.evaluate(MEASURE)
    return result


# Placed off the page on purpose until focused (the skip link): measured when focused.
OFF_PAGE = """e => { const r = e.getBoundingClientRect();
  return r.width <= 1 || r.right + window.scrollX <= 0 || r.bottom + window.scrollY <= 0; }"""


async def visible_controls(page: Page) -> list[Any]:
    """Up to PER_LOOK visible controls of each look on the page."""
    found = []
    looks: dict[str, int] = {}
    for handle in await page.query_selector_all(CONTROLS):
        look = await handle.evaluate(LOOK)
        if looks.get(look, 0) >= PER_LOOK:
            continue
        if await handle.is_visible() and not await handle.evaluate(OFF_PAGE):
            looks[look] = looks.get(look, 0) + 1
            found.append(handle)
    return found


async def every_state(page: Page) -> list[tuple[str, dict[str, Any]]]:
    """(state, measurement) for each visible control (up to PER_LOOK of a look) at rest and
    hovered, then for each control that keyboard focus reaches in FOCUS_STOPS Tabs."""
    seen: list[tuple[str, dict[str, Any]]] = []
    for handle in await visible_controls(page):
        await page.mouse.move(0, 0)
        seen.append(("rest", await measure(page, handle)))
        await handle.scroll_into_view_if_needed()
        await handle.hover()
        seen.append(("hover", await measure(page, handle)))
    await page.mouse.move(0, 0)
    await page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(FOCUS_STOPS):
        await page.keyboard.press("Tab")
        focused = await page.evaluate_handle("document.activeElement")
        tag = await focused.evaluate("e => e.tagName")
        if tag == "BODY":
            break
        seen.append(("focus", await measure(page, focused)))
    return seen


@pytest.fixture
async def world(control: asyncpg.Connection, owner_conn: asyncpg.Connection) -> dict[str, str]:
    """An operator, and a district with an incoming and an outgoing connection, so that the
    pages show every kind of control: primary, secondary and danger buttons, links, fields."""
    email = f"contrast-{unique_lea().lower()}@dpi.example.gov"
    await users.add(
        control,
        email=email,
        role="operator",
        lea_code=None,
        password=PASSWORD,
        actor=CONSUMER_ACTOR,
    )
    lea = (await add_district(owner_conn, unique_lea())).lea_code
    issued = await credentials.issue(
        control, lea_code=lea, consumer=await add_consumer(control), label="x", actor=CONSUMER_ACTOR
    )
    remember(issued.client_secret, PASSWORD)
    secret, password = "contrast-vendor-secret-1", "contrast-vendor-password-1"
    remember(secret, password)
    added = await vendors.add(
        control,
        SESSION_MASTER_KEYS,
        lea,
        vendors.ConnectionInput(
            "Parchment",
            "https://auth.parchment.example",
            "/oauth/token",
            "https://upload.parchment.example",
            443,
            "/v1/transcripts",
            "key",
            secret,
            "user",
            password,
        ),
        CONSUMER_ACTOR,
        allow_insecure=False,
    )
    return {"email": email, "lea": lea, "connection": str(added["connection_id"])}


async def test_every_control_in_every_state_keeps_4_5_to_1(
    page: Page, world: dict[str, str]
) -> None:
    await sign_in(page, world["email"], PASSWORD)
    lea = world["lea"]
    pages = [
        "/admin/districts",
        f"/admin/districts/{lea}",
        f"/admin/districts/{lea}/outgoing/{world['connection']}",
        "/admin/credentials",
        "/admin/users",
        "/admin/batches",
        "/admin/audit",
        f"/districts/{lea}/setup",  # the district's own pages, as an operator sees them
        f"/districts/{lea}/disclosures",
    ]
    failures: list[str] = []
    measured = 0
    for path in pages:
        await page.goto(path)
        for state, seen in await every_state(page):
            measured += 1
            if seen["ratio"] < MINIMUM:
                failures.append(
                    f"{path} {state} {seen['control']}: {seen['ratio']:.2f}:1 "
                    f"({seen['text']} on {seen['background']})"
                )
    assert measured > 50  # the pages really had controls to measure
    assert not failures, "\n".join(failures)
