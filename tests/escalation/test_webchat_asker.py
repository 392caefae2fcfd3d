"""An asker on the intranet web chat, a line manager in Teams: the request must reach
Teams at the Teams service URL (the asker's own serviceUrl is Direct Line's), the answer
must come back to the web chat, and a forged web chat id must get none of it."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiohttp
import pytest

from bot.channels.directline.identity import WebChatIds
from bot.clock import FakeClock
from bot.core import Adviser
from bot.escalation.tickets import Status
from bot.fakes.connector import FakeConnector, Member, Sent
from bot.fakes.graph import FakeGraph
from bot.fakes.identity import FakeIdentity
from bot.fakes.tokens import StaticBotTokens
from bot.settings import BotSdk
from tests.channels.conftest import actions_of, card_text, cards_in, start
from tests.escalation.conftest import (
    ASKER,
    CLIENT,
    DCCT_CHANNEL,
    DCCT_MEMBER,
    DCCT_TEAM,
    MANAGER,
    SECRET,
    SIGNING_KEY,
    START,
    World,
    directory,
    escalation_settings,
)

pytestmark = pytest.mark.e2e  # web chat asker to Teams manager, end to end over real HTTP

QUESTION = "Can I retweet a party leader's post criticising the Scottish Government?"
WEB_CONVERSATION = "dl-conversation-7"
_ids = itertools.count(1)


@dataclass
class Split:
    """The bot with two Bot Connectors: Teams (`world.connector`) and Direct Line's."""

    world: World
    webchat: FakeConnector
    signed_id: str

    async def say(self, from_id: str, **fields: Any) -> str:
        """Post what Direct Line posts for the web part's user `from_id`; its id."""
        activity = {
            "type": "message",
            "id": f"web-{next(_ids)}",
            "channelId": "directline",
            "serviceUrl": self.webchat.service_url,
            "from": {"id": from_id, "name": ASKER.name},
            "conversation": {"id": WEB_CONVERSATION},
            "recipient": {"id": "policy-adviser-bot", "name": "Policy adviser"},
            **fields,
        }
        await self.world.post(activity)
        return str(activity["id"])

    async def reply_to(self, activity_id: str) -> Sent:
        """The bot's reply to one activity (other messages may arrive meanwhile)."""
        sent = await self.webchat.wait_until(lambda s: any(x.reply_to_id == activity_id for x in s))
        return next(x for x in sent if x.reply_to_id == activity_id)

    async def web_card(self, predicate: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        """The first card on the web chat that satisfies `predicate` (waits for it)."""

        def found(sent: list[Sent]) -> list[dict[str, Any]]:
            return [c for c in cards_in(sent) if predicate(c)]

        return found(await self.webchat.wait_until(lambda s: bool(found(s))))[0]


@pytest.fixture
async def split(tmp_path: Path, adviser: Adviser, bot_sdk: BotSdk) -> AsyncIterator[Split]:
    async with (
        FakeConnector() as teams,
        FakeConnector() as webchat,
        FakeIdentity(CLIENT, SECRET) as identity,
        FakeGraph() as graph,
        aiohttp.ClientSession() as http,
    ):
        directory(graph)
        settings = escalation_settings(
            tmp_path, identity, graph, TEAMS_SERVICE_URL=teams.service_url
        )
        clock = FakeClock(START)
        runner, url, app = await start(settings, adviser, clock=clock, bot_tokens=StaticBotTokens())
        try:
            world = World(url, app, teams, graph, identity, http, clock, settings)
            signed = WebChatIds(SIGNING_KEY.encode()).issue(ASKER.aad_object_id)
            yield Split(world, webchat, signed)
        finally:
            await runner.cleanup()


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["title"] == title)["data"]  # type: ignore[no-any-return]


def saying(words: str) -> Callable[[dict[str, Any]], bool]:
    return lambda card: words in card_text(card)


def offering(title: str) -> Callable[[dict[str, Any]], bool]:
    return lambda card: any(a["title"] == title for a in actions_of(card))


async def escalate(split: Split) -> dict[str, Any]:
    """Ask on the web chat and send the request to the line manager; the answer card."""
    await split.say(split.signed_id, text=QUESTION)
    answer = await split.web_card(offering("Ask my line manager"))
    await split.say(split.signed_id, value=button(answer, "Ask my line manager"))
    preview = await split.web_card(saying("The adviser said"))
    send = {**button(preview, "Send request"), "question": QUESTION, "consent": "true"}
    await split.say(split.signed_id, value=send)
    return answer


async def test_a_web_chat_asker_reaches_their_manager_in_teams_and_gets_the_answer(
    split: Split,
) -> None:
    world, teams = split.world, split.world.connector
    await escalate(split)

    # The manager's chat is created in Teams, at the Teams service URL, as the bot's
    # Teams identity and in the organisation's tenant (web chat names none).
    sent = await teams.wait_until(lambda s: any(x.path == "/v3/conversations" for x in s))
    created = next(x for x in sent if x.path == "/v3/conversations")
    assert created.activity["members"] == [{"id": MANAGER.aad_object_id}]
    assert created.activity["tenantId"] == world.identity.tenant
    sent = await teams.wait_until(lambda s: any(x.conversation_id.startswith("a:fake") for x in s))
    request = next(c for c in cards_in(sent) if "Morag Stewart asks" in card_text(c))
    assert all(not x.conversation_id.startswith("a:fake") for x in split.webchat.sent)
    ticket = await world.ticket()
    assert ticket.expert_conversation["serviceUrl"] == teams.service_url
    assert ticket.expert_conversation["channelId"] == "msteams"
    assert ticket.asker_user_id == f"dl_{ASKER.aad_object_id}"
    await split.web_card(saying("Delivered to Alex Boss"))

    # The manager answers in Teams; the answer arrives on the web chat.
    await world.press(MANAGER, {**button(request, "Not OK"), "answer": "Please don't: see D13"})
    relayed = await split.web_card(saying("Answer from Alex Boss"))
    assert "Please don't: see D13" in card_text(relayed)
    assert (await world.ticket()).status is Status.ANSWERED
    replies = {unquote(x.conversation_id) for x in split.webchat.sent}
    assert replies == {WEB_CONVERSATION}


async def test_a_forged_web_chat_id_sees_no_requests_and_cannot_act_on_them(
    split: Split,
) -> None:
    world = split.world
    answer = await escalate(split)
    await split.web_card(saying("on its way"))
    await split.say(split.signed_id, text="my requests")
    mine = await split.web_card(saying("Your requests"))
    withdraw = button(mine, "Withdraw")

    for forged in (f"dl_{ASKER.aad_object_id}", f"dl_{ASKER.aad_object_id}_{'a' * 26}"):
        # aadObjectId is the client's to write as well: it counts for nothing here.
        sender = {"id": forged, "name": ASKER.name, "aadObjectId": ASKER.aad_object_id}
        reply = await split.reply_to(
            await split.say(forged, text="my requests", **{"from": sender})
        )
        assert "You have no requests" in card_text(cards_in([reply])[0])
        reply = await split.reply_to(await split.say(forged, value=withdraw))
        assert "couldn't act on that button" in reply.activity["text"]
        offer = button(answer, "Ask my line manager")
        reply = await split.reply_to(await split.say(forged, value=offer))
        assert "I can't pass this on" in reply.activity["text"]
    assert (await world.ticket()).status is not Status.CANCELLED


async def test_a_web_chat_askers_dcct_request_alerts_the_dcct_members_found_in_teams(
    split: Split,
) -> None:
    """No manager on record: the request goes to the DCCT channel, and the activity-feed
    alert goes to the DCCT team's members, asked of Teams at the Teams service URL (the
    asker's own serviceUrl is Direct Line's, which knows no team)."""
    world, teams = split.world, split.world.connector
    teams.members[DCCT_TEAM] = [Member(DCCT_MEMBER.id, DCCT_MEMBER.name, DCCT_MEMBER.aad_object_id)]
    world.graph.users[ASKER.aad_object_id].manager = None
    await escalate(split)
    sent = await teams.wait_until(lambda s: any(x.activity.get("isGroup") for x in s))
    post = next(x for x in sent if x.activity.get("isGroup"))
    assert post.activity["channelData"]["channel"]["id"] == DCCT_CHANNEL  # posted in Teams
    await world.idle()
    assert (await world.ticket()).route == "dcct"
    [notice] = world.graph.notifications
    assert notice["user"] == DCCT_MEMBER.aad_object_id
