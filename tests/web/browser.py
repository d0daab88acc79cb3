"""A real headless Chromium for the web tests: Debian's `chromium` driven by Playwright, offline.

`open_page(browser, url)` gives a page whose console errors and outgoing requests are recorded: any request
to anything but `file://`, `data:` and `http://127.0.0.1` is aborted and listed in `page.derive_blocked`, so a
test can assert that a page reads offline. Screenshots go to `artifacts/screenshots/` beside the tests (kept
as CI artefacts; git ignores them).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM_ARGS = [  # as root, offline: the background-networking flags stop Chromium calling home
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]
ARTIFACTS = Path(__file__).resolve().parent.parent.parent / "artifacts" / "screenshots"
LOCAL = ("file://", "data:", "about:", "http://127.0.0.1", "ws://127.0.0.1")


def chromium_path() -> str:
    """The browser's path; skips the test when it or Playwright is missing, unless DERIVE_REQUIRE_BROWSER=1."""
    path = os.environ.get("DERIVE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        path = None
    if path is None:
        if os.environ.get("DERIVE_REQUIRE_BROWSER") == "1":
            pytest.fail("Chromium and Playwright are required (DERIVE_REQUIRE_BROWSER=1) but missing")
        pytest.skip("Chromium (Debian: chromium) or Playwright (pip: playwright) is not installed")
    return path


def open_page(browser, url: str, wait_until: str = "load"):
    """A new page at `url`, recording console errors (`page.derive_errors`) and blocking requests that would
    leave the machine (`page.derive_blocked`)."""
    page = browser.new_page()
    page.derive_errors = []
    page.derive_blocked = []
    page.on("console", lambda m: page.derive_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.derive_errors.append(str(e)))

    def guard(route):
        if route.request.url.startswith(LOCAL):
            route.continue_()
        else:
            page.derive_blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    page.goto(url, wait_until=wait_until)
    return page


def screenshot(page, name: str) -> Path:
    """A full-page screenshot kept as a test artefact: artifacts/screenshots/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
