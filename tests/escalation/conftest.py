"""The bot server with escalation wired to local stand-ins: Bot Connector, Graph, sign-in."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import ESCALATION_KEY
from bot.clock import FakeClock
from bot.core import Adviser
from bot.escalation.tickets import Ticket
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.connector import FakeConnector, Member, Sent
from bot.fakes.graph import FakeGraph, FakeUser
from bot.fakes.identity import FakeIdentity
from bot.fakes.tokens import StaticBotTokens
from bot.settings import BotSdk, Settings
from tests.channels.conftest import actions_of, cards_in, local_settings, start

CLIENT, SECRET = "00000000-aaaa-4bbb-8ccc-00000000c11e", "graph-secret-value"
CATALOG_APP = "00000000-aaaa-4bbb-8ccc-0000000ca7a1"
SIGNING_KEY = "k" * 40
ASKER = TeamsUser()
MANAGER = TeamsUser(
    id="29:boss-teams-id",
    name="Alex Boss",
    aad_object_id="aad-boss",
    conversation_id="a:fake-conversation-1",
)
DCCT_MEMBER = TeamsUser(
    id="29:dcct-one",
    name="Dana Comms",
    aad_object_id="aad-dcct-1",
    conversation_id="19:dcct-channel@thread.tacv2;messageid=1",
)
STRANGER = TeamsUser(
    id="29:someone",
    name="Sam Else",
    aad_object_id="aad-someone",
    conversation_id="a:someone-else-chat",
)
DCCT_TEAM, DCCT_CHANNEL = "19:dcct-team@thread.tacv2", "19:dcct-channel@thread.tacv2"
# Wednesday 25 November 2026, 10:00 in Edinburgh: working hours.
START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@dataclass
class World:
    url: str
    app: web.Application
    connector: FakeConnector
    graph: FakeGraph
    identity: FakeIdentity
    http: aiohttp.ClientSession
    clock: FakeClock
    settings: Settings

    async def post(self, activity: dict[str, Any]) -> aiohttp.ClientResponse:
        response = await self.http.post(f"{self.url}/api/messages", json=activity)
        await response.read()
        assert response.status in (200, 201), await response.text()
        return response

    async def until(self, predicate: Callable[[list[Sent]], bool]) -> list[Sent]:
        return await self.connector.wait_until(predicate)

    async def idle(self) -> None:
        """Wait until the outbox has nothing left to send (the worker has caught up)."""
        store = self.app[ESCALATION_KEY].store
        for _ in range(500):
            counts = await store.outbox_counts()
            if not counts.get("pending") and not counts.get("sending"):
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the outbox is still busy: {counts}")

    async def ticket(self, ticket_id: int = 1) -> Ticket:
        found = await self.app[ESCALATION_KEY].store.get(ticket_id)
        assert found is not None
        return found

    async def answer_card_for(self, user: TeamsUser, question: str) -> dict[str, Any]:
        """Ask as `user`; the card the bot answers with in their conversation (the outbox
        worker may post elsewhere meanwhile: another person's notice, a card update)."""
        before = len(self.connector.sent)
        await self.post(activities.message(question, user, self.connector.service_url))

        def replies(sent: list[Sent]) -> list[Sent]:
            return [s for s in sent[before:] if s.conversation_id == user.conversation_id]

        [card] = cards_in(replies(await self.until(lambda s: len(replies(s)) > 0)))
        return card

    async def press(
        self, user: TeamsUser, data: dict[str, Any], expect: int = 1, reply_to: str = "activity-x"
    ) -> list[Sent]:
        """Press a card button as `user`; wait for `expect` replies in their conversation."""
        before = len(self.connector.sent)
        url = self.connector.service_url
        await self.post(activities.card_submit(data, user, url, reply_to=reply_to))

        def replies(sent: list[Sent]) -> list[Sent]:
            return [s for s in sent[before:] if s.conversation_id == user.conversation_id]

        return replies(await self.until(lambda s: len(replies(s)) >= expect))

    async def escalate(self, question: str, route: str = "line_manager") -> list[Sent]:
        """Ask, press the route's button, consent and send; return the calls made."""
        card = await self.answer_card_for(ASKER, question)
        offer = next(a for a in actions_of(card) if a.get("data", {}).get("route") == route)
        [preview] = cards_in(await self.press(ASKER, offer["data"]))
        send = next(a for a in actions_of(preview) if a["title"] == "Send request")
        before = len(self.connector.sent)
        await self.press(ASKER, {**send["data"], "question": question, "consent": "true"})
        return self.connector.sent[before:]


def graph_env(identity: FakeIdentity, graph: FakeGraph) -> dict[str, str]:
    """The settings that point Graph and its sign-in at the local stand-ins."""
    return {
        "GRAPH_BASE_URL": graph.base_url,
        "GRAPH_AUTHORITY_HOST": identity.authority_host,
        "GRAPH_CLIENT_ID": CLIENT,
        "GRAPH_CLIENT_SECRET": SECRET,
        "GRAPH_TENANT_ID": identity.tenant,
        "GRAPH_CA_BUNDLE": identity.ca_path,
    }


def escalation_settings(
    tmp_path: Path, identity: FakeIdentity, graph: FakeGraph, **env: str
) -> Settings:
    base = {
        **graph_env(identity, graph),
        "TEAMS_APP_CATALOG_ID": CATALOG_APP,
        "DCCT_TEAM_ID": DCCT_TEAM,
        "DCCT_CHANNEL_ID": DCCT_CHANNEL,
        "CARD_SIGNING_KEY": SIGNING_KEY,
    }
    return local_settings(tmp_path, **{**base, **env})


def directory(graph: FakeGraph) -> None:
    graph.add(FakeUser(MANAGER.aad_object_id, MANAGER.name, "alex.boss@example.org"))
    graph.add(FakeUser(DCCT_MEMBER.aad_object_id, DCCT_MEMBER.name, "dana.comms@example.org"))
    graph.add(FakeUser(ASKER.aad_object_id, ASKER.name, "morag@example.org", MANAGER.aad_object_id))


@pytest.fixture
def world_settings() -> dict[str, str]:
    """Override in a test module to change settings for every test in it."""
    return {}


@pytest.fixture
async def world(
    tmp_path: Path, adviser: Adviser, world_settings: dict[str, str], bot_sdk: BotSdk
) -> AsyncIterator[World]:
    clock = FakeClock(START)
    async with (
        FakeConnector() as connector,
        FakeIdentity(CLIENT, SECRET) as identity,
        FakeGraph() as graph,
        aiohttp.ClientSession() as http,
    ):
        directory(graph)
        connector.members[DCCT_TEAM] = [
            Member(DCCT_MEMBER.id, DCCT_MEMBER.name, DCCT_MEMBER.aad_object_id)
        ]
        settings = escalation_settings(tmp_path, identity, graph, **world_settings)
        runner, url, app = await start(settings, adviser, clock=clock, bot_tokens=StaticBotTokens())
        try:
            yield World(url, app, connector, graph, identity, http, clock, settings)
        finally:
            await runner.cleanup()
