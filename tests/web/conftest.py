"""Fixtures of the browser tests: one headless Chromium per test process (see tests/web/browser.py)."""

from __future__ import annotations

import pytest

from .browser import CHROMIUM_ARGS, chromium_path


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()
