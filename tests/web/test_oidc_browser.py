"""Headless Chromium through the whole OIDC round trip: the gateway's sign-in page, the
provider's own login page (node's oidc-provider on loopback), back to the district's
Electronic Release Setup."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect
from starlette.applications import Starlette

from tests.oidc.world import PROVIDER_NAME, OidcWorld, ensure_break_glass
from tests.web.browser import LAPTOP, screenshot

pytestmark = pytest.mark.browser


async def test_district_staff_sign_in_through_the_provider(
    browser: Browser, oidc_world: OidcWorld, gateway_app: Starlette
) -> None:
    world = oidc_world
    async with gateway_app.state.services.stores.control.acquire() as conn:
        await ensure_break_glass(conn)
    context = await browser.new_context(viewport=LAPTOP)
    context.set_default_timeout(15_000)
    try:
        page = await context.new_page()
        await page.goto(world.a.url("/login"))
        # The provider first; the break-glass form below it.
        await expect(page.get_by_role("heading", name="Local account")).to_be_visible()
        await screenshot(page, "sign-in-with-provider")
        await page.get_by_role("link", name=f"Sign in with {PROVIDER_NAME}").click()
        # The provider's page, on the provider's origin.
        await page.wait_for_url(re.compile(re.escape(world.issuer) + r"/interaction/"))
        await page.locator('input[name="login"]').fill(world.district_user)
        await page.locator('input[name="password"]').fill("whatever the provider asks")
        await page.get_by_role("button", name="Sign-in").click()
        await page.wait_for_url(world.a.url(f"/districts/{world.lea}/setup"))
        await expect(page.get_by_role("heading", name="Electronic Release Setup")).to_be_visible()
        await expect(page.get_by_text(world.email(world.district_user))).to_be_visible()
        await screenshot(page, "district-setup-after-oidc-sign-in")
        # Another district is not theirs.
        answer = await page.goto(world.a.url(f"/districts/{world.other_lea}/setup"))
        assert answer is not None and answer.status == 404
    finally:
        await context.close()
