from __future__ import annotations

from pathlib import Path

import pytest

from bot.core import Adviser
from bot.settings import BotSdk

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"


@pytest.fixture(scope="session")
def adviser() -> Adviser:
    return Adviser.from_directory(KNOWLEDGE)


@pytest.fixture(params=list(BotSdk), ids=lambda sdk: f"sdk={sdk.value}")
def bot_sdk(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> BotSdk:
    """Run the test once per Bot SDK, chosen the way production chooses it: `BOT_SDK` in
    the environment (read by tests/channels/conftest.py's local_settings, and by every
    `python -m bot serve` a test starts)."""
    sdk: BotSdk = request.param
    monkeypatch.setenv("BOT_SDK", sdk.value)
    return sdk
