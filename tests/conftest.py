from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core import Adviser
from bot.fakes.postgres import PostgresServer
from bot.settings import BotSdk

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
# PostgreSQL tests fail, not skip, when the server cannot start (CI must run them);
# only this variable, set on purpose, skips them.
SKIP_POSTGRES = "ADVISER_SKIP_POSTGRES"


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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL cluster for the whole run (each test gets a database)."""
    if os.environ.get(SKIP_POSTGRES) == "1":
        pytest.skip(f"{SKIP_POSTGRES}=1: PostgreSQL tests skipped on request")
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A new, empty database on the test cluster."""
    return postgres_server.create_database()
