"""A real bot server on 127.0.0.1 and a fake Bot Connector it replies to.

The HTTP-level suite (here and in tests/escalation and tests/webchat) runs once per Bot
SDK: its modules use the `bot_sdk` fixture (tests/conftest.py), which sets `BOT_SDK`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import FEEDBACK_KEY, create_app
from bot.clock import FakeClock
from bot.core import Adviser
from bot.fakes.connector import FakeConnector, Sent
from bot.fakes.tokens import StaticBotTokens
from bot.settings import BotSdk, Settings


@dataclass
class Running:
    url: str
    app: web.Application
    connector: FakeConnector
    http: aiohttp.ClientSession
    clock: FakeClock
    tokens: StaticBotTokens

    async def post(self, activity: dict[str, Any], **headers: str) -> aiohttp.ClientResponse:
        response = await self.http.post(f"{self.url}/api/messages", json=activity, headers=headers)
        await response.read()
        return response

    async def turn(self, activity: dict[str, Any], replies: int = 1) -> list[Sent]:
        """Post an activity and wait for `replies` more calls to the connector."""
        before = len(self.connector.sent)
        response = await self.post(activity)
        assert response.status in (200, 201), await response.text()
        sent = await self.connector.wait_for(before + replies)
        return sent[before:]

    @property
    def feedback(self) -> Any:
        return self.app[FEEDBACK_KEY]


def local_settings(tmp_path: Path, **env: str) -> Settings:
    """Settings as the server reads them: from environment variables (named as in the
    runbook), so a test goes through the same parsing and checks as a deployment.
    `BOT_SDK` comes from the test's own environment (the `bot_sdk` fixture sets it)."""
    base = {
        "BOT_DATABASE_PATH": str(tmp_path / "bot.sqlite3"),
        "BOT_TYPING_DELAY_MS": "10000",
        "BOT_SDK": os.environ.get("BOT_SDK", ""),
    }
    return Settings.from_env({**base, **env})


async def start(
    settings: Settings, adviser: Adviser, **services: Any
) -> tuple[web.AppRunner, str, web.Application]:
    app = await create_app(settings, adviser, **services)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}", app


@pytest.fixture
async def running(tmp_path: Path, adviser: Adviser, bot_sdk: BotSdk) -> AsyncIterator[Running]:
    clock = FakeClock()
    tokens = StaticBotTokens()
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        runner, url, app = await start(
            local_settings(tmp_path), adviser, clock=clock, bot_tokens=tokens
        )
        try:
            yield Running(url, app, connector, http, clock, tokens)
        finally:
            await runner.cleanup()


def cards_in(sent: list[Sent]) -> list[dict[str, Any]]:
    return [
        a["content"]
        for s in sent
        for a in s.activity.get("attachments") or []
        if a.get("contentType") == "application/vnd.microsoft.card.adaptive"
    ]


def card_text(card: dict[str, Any]) -> str:
    """Every string in a card, joined: enough to assert what a reader would see."""
    out: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("text", "title") and isinstance(value, str):
                    out.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(out)


def actions_of(card: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if str(node.get("type", "")).startswith("Action.") and "title" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found
