"""`/insights` in headless Chromium with twelve weeks of seeded records: it renders with
no console errors, reads in order, and its screenshot lands in artifacts/insights.png."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bot.app import ANSWERS_KEY, DATABASE_KEY, FEEDBACK_KEY, RULINGS_KEY
from bot.clock import FakeClock
from bot.core import Adviser
from bot.fakes.tokens import StaticBotTokens
from bot.insights.report import week_start
from tests.browser import ARTIFACTS, chromium
from tests.channels.conftest import local_settings, start
from tests.escalation.conftest import START
from tests.insights import seed


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with chromium() as launched:
        yield launched


async def test_the_insights_page_in_a_browser(
    tmp_path: Path, adviser: Adviser, browser: Browser
) -> None:
    clock = FakeClock(START)
    runner, url, app = await start(local_settings(tmp_path), adviser, clock=clock,
                                   bot_tokens=StaticBotTokens())  # fmt: skip
    try:
        first_monday = datetime.combine(week_start(START) - timedelta(weeks=11), time(9), UTC)
        await seed.seed_showcase(app[ANSWERS_KEY], app[FEEDBACK_KEY], first_monday)
        await seed.seed_tickets(app[DATABASE_KEY], START - timedelta(weeks=2))
        # Two rulings proposed on the DCCT's desk, not yet approved by a second member.
        for ticket_id in (1, 2):
            await app[RULINGS_KEY].store.create(seed.proposal(ticket_id, START))
        page = await browser.new_page(viewport={"width": 1100, "height": 900}, locale="en-GB")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(f"{url}/insights")
        assert await page.get_attribute("html", "lang") == "en-GB"
        assert await page.title() == "Insights for the DCCT – Social media policy adviser"
        headings = await page.locator("h1, h2").all_inner_texts()
        assert headings[:3] == ["Insights for the DCCT", "Questions per week, by verdict",
                                "Questions by topic"]  # fmt: skip
        figures = await page.get_by_label("Key figures").inner_text()
        assert "2\nproposals waiting for a second DCCT member" in figures
        charts = page.get_by_role("img")
        assert await charts.count() == 3
        assert await charts.first.get_attribute("aria-labelledby")
        assert await page.get_by_role("table").first.is_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "insights.png"), full_page=True)
        assert errors == []
        await page.close()
    finally:
        await runner.cleanup()
