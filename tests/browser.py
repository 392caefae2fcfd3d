"""Headless Chromium for the browser tests (Debian's `chromium`, driven by Playwright), and
where their screenshots go. One launcher, so every browser test starts it the same way."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, async_playwright

from tests.conftest import ROOT

CHROMIUM = os.environ.get("ADVISER_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ADVISER_ARTIFACTS") or ROOT / "artifacts")


def require_chromium() -> None:
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} missing: apt-get install chromium"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    require_chromium()
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield browser
        finally:
            await browser.close()
