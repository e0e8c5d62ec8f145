"""Headless-browser test kit: a live server in a thread, Debian's Chromium, and page helpers.

The fixtures in `tests/web/conftest.py` use this module; browser tests import the helpers:

    pytestmark = pytest.mark.browser

    async def test_something(page: Page, live_server: LiveServer) -> None:
        await sign_in(page, email, password)      # through the real /login form
        await page.goto("/admin/districts")       # relative to live_server.base_url
        await screenshot(page, "admin-districts")

Chromium is Debian's (`/usr/bin/chromium`), driven by the Python `playwright` package, never a
browser that `playwright install` downloads (see DESIGN.md, "Headless browser tests").
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import uvicorn
from starlette.applications import Starlette

from gateway.app import create_app
from gateway.settings import Settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, Page, Playwright, ViewportSize

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
ARTIFACTS = REPO / "tests" / "artifacts" / "screenshots"  # git-ignored: every run
DOCS = REPO / "docs" / "screenshots"  # committed: refreshed on request (see `screenshot`)
SKIP_ENV = "GATEWAY_SKIP_BROWSER"
UPDATE_DOCS_ENV = "GATEWAY_UPDATE_SCREENSHOTS"
READY_TIMEOUT = 30.0


def skip_reason() -> str | None:
    """Why browser tests are switched off, if they are (an explicit choice, never a guess)."""
    if os.environ.get(SKIP_ENV) == "1":
        return f"{SKIP_ENV}=1: headless browser tests are switched off"
    return None


def missing_browser() -> str | None:
    """What is missing to run the browser tests, as a message that says how to fix it."""
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return (
            "The Python package `playwright` is missing: pip install -e '.[dev]'. It drives "
            f"Debian's chromium; never run `playwright install`. (Set {SKIP_ENV}=1 to skip.)"
        )
    if not CHROMIUM.exists():
        return (
            f"{CHROMIUM} is missing: apt-get install chromium (Debian's package). "
            f"(Set {SKIP_ENV}=1 to skip.)"
        )
    return None


async def launch(playwright: Playwright) -> Browser:
    return await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
    )


# --- the live server ------------------------------------------------------------------------


def free_socket() -> socket.socket:
    """A listening-ready socket on a free loopback port; handed to uvicorn as it is, so no
    other process can take the port between choosing it and binding it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@dataclass
class LiveServer:
    """The real app under uvicorn on 127.0.0.1, in a thread with its own event loop."""

    app: Starlette
    settings: Settings
    sock: socket.socket
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    async def wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2.0) as client:
            while True:
                if not self.thread.is_alive():
                    raise RuntimeError("the live server stopped while starting; see the log")
                try:
                    if (await client.get("/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"the live server was not ready in {READY_TIMEOUT:.0f} s")
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        self.server.should_exit = True
        await asyncio.to_thread(self.thread.join, READY_TIMEOUT)
        self.sock.close()


def start_server(settings_for: Any, sock: socket.socket | None = None) -> LiveServer:
    """Start the app on a free port (or on `sock`, bound beforehand with `free_socket()`, when
    another server must know the address first). `settings_for(port)` builds the settings: the
    base URL must name the port, since the CSRF check compares the Origin with it."""
    sock = sock or free_socket()
    port = sock.getsockname()[1]
    settings: Settings = settings_for(port)
    app = create_app(settings)
    # No log config of uvicorn's own (the test run's logging stays as configured), no
    # websockets (nothing uses them, and their import warns).
    config = uvicorn.Config(
        app,
        log_config=None,
        access_log=False,
        lifespan="on",
        ws="none",
        timeout_graceful_shutdown=5,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name="live-server", daemon=True
    )
    thread.start()
    return LiveServer(app, settings, sock, server, thread)


# --- page helpers ---------------------------------------------------------------------------


async def sign_in(page: Page, email: str, password: str) -> None:
    """Sign in through the real /login form, and wait for the page it leads to."""
    await page.goto("/login")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    async with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith("/login")
    ) as answer:
        await page.get_by_role("button", name="Sign in").click()
    response = await answer.value
    if response.status != 303:
        # Say why, rather than time out waiting for a page that will not come.
        said = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", await response.text()))
        origin = await response.request.header_value("origin")
        raise AssertionError(
            f"sign-in through the form answered {response.status} (Origin: {origin}): {said[:300]}"
        )
    await page.wait_for_url(lambda url: "/login" not in url)


async def fits_width(page: Page) -> bool:
    """True when the page itself does not scroll sideways (wide tables scroll in their box)."""
    result = await page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    return bool(result)


async def screenshot(page: Page, name: str, *, full_page: bool = True) -> Path:
    """Save a PNG of the page (of what the viewport shows, with full_page=False) as
    tests/artifacts/screenshots/NAME.png.

    With GATEWAY_UPDATE_SCREENSHOTS=1 it is copied to docs/screenshots/ too (the committed
    copies the README shows). Not on every run: each run's data differ (codes, times), and a
    test run should not leave committed files changed.
    """
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    if os.environ.get(UPDATE_DOCS_ENV) == "1":
        DOCS.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS / path.name)
    return path
