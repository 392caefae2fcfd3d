"""The botbuilder handler under botbuilder's TestAdapter, driving the shared Turns; replies
caught by a recording outbound."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from botbuilder.core.adapters import TestAdapter
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    Mention,
)

from bot.channels.activity_protocol.turns import Turns
from bot.channels.botframework.endpoint import create_adapter
from bot.channels.botframework.handler import AdviserBot
from bot.channels.directline.identity import WebChatIds
from bot.clock import FakeClock
from bot.conversation.dialogue import SORRY, Dialogue
from bot.conversation.signing import CardSigner
from bot.conversation.types import Person, Reply
from bot.core import Adviser
from bot.core.types import Advice, Route
from bot.fakes.outbound import RecordingOutbound
from bot.fakes.tokens import StaticBotTokens
from bot.settings import Settings
from bot.store.feedback import FeedbackStore
from bot.store.sqlite import SqliteDatabase
from bot.store.welcomes import WelcomeStore


class NoEscalations:
    """A do-nothing escalation port; tests override the method they watch."""

    async def offer(self, asker: Person, question: str, advice: Any, route: Any) -> Reply:
        return Reply(text="offer")

    async def handle(self, actor: Person, data: Any) -> Reply:
        return Reply(text="handled")

    async def my_requests(self, asker: Person) -> Reply:
        return Reply(text="no requests")


async def make_bot(
    adviser: Adviser, typing_delay: float = 10.0, escalations: Any = None
) -> AdviserBot:
    database = SqliteDatabase(":memory:")
    await database.open()
    dialogue = Dialogue(
        adviser,
        FeedbackStore(database),
        escalations or NoEscalations(),
        FakeClock(),
        signer=CardSigner(b"k" * 32),
        max_chars=Settings().bot.max_message_chars,
        retention_days=30,
    )
    return AdviserBot(
        Turns(
            dialogue,
            typing_delay,
            RecordingOutbound(),
            WelcomeStore(database),
            FakeClock(),
            WebChatIds.ephemeral(),
        )
    )


def adapter_for(bot: AdviserBot) -> TestAdapter:
    return TestAdapter(bot.on_turn)


def sent(bot: AdviserBot) -> list[Any]:
    assert isinstance(bot.turns.outbound, RecordingOutbound)
    return [item for item, _ in bot.turns.outbound.sent]


async def test_message_gets_one_adaptive_card(adviser: Adviser) -> None:
    bot = await make_bot(adviser)
    await adapter_for(bot).send("Can I retweet a Parliament post?")
    [reply] = sent(bot)
    assert reply.card["type"] == "AdaptiveCard"
    assert reply.text is None


async def test_typing_is_sent_first_when_the_answer_is_slow(adviser: Adviser) -> None:
    class SlowEscalations(NoEscalations):
        async def my_requests(self, asker: Person) -> Reply:
            # Slower than the typing delay by construction: done only once typing shows
            # (a bound, not a window: without typing the test fails after it).
            assert isinstance(bot.turns.outbound, RecordingOutbound)
            await asyncio.wait_for(bot.turns.outbound.typing_shown.wait(), 10)
            return Reply(text="none")

    bot = await make_bot(adviser, typing_delay=0.0, escalations=SlowEscalations())
    await adapter_for(bot).send("my requests")
    assert sent(bot) == ["typing", Reply(text="none")]


async def test_no_typing_when_the_answer_is_quick(adviser: Adviser) -> None:
    bot = await make_bot(adviser, typing_delay=5.0)
    await adapter_for(bot).send("hello")
    [reply] = sent(bot)
    assert isinstance(reply, Reply)


async def test_mention_is_stripped_in_channels(adviser: Adviser) -> None:
    seen: list[str | None] = []

    class Recording(NoEscalations):
        async def my_requests(self, asker: Person) -> Reply:
            seen.append(asker.user_id)
            return Reply(text="ok")

    bot = await make_bot(adviser, escalations=Recording())
    activity = Activity(
        type=ActivityTypes.message,
        text="<at>Policy adviser</at> my requests",
        entities=[
            Mention(
                type="mention",
                text="<at>Policy adviser</at>",
                mentioned=ChannelAccount(id="bot", name="Policy adviser"),
            )
        ],
    )
    await adapter_for(bot).send(activity)
    assert sent(bot) == [Reply(text="ok")]
    assert seen


async def test_escalation_offer_reaches_the_port_with_advice_and_route(adviser: Adviser) -> None:
    calls: list[tuple[str, Advice, Route]] = []

    class Recording(NoEscalations):
        async def offer(self, asker: Person, question: str, advice: Advice, route: Route) -> Reply:
            calls.append((question, advice, route))
            return Reply(card={"type": "AdaptiveCard", "version": "1.5", "body": []})

    bot = await make_bot(adviser, escalations=Recording())
    await adapter_for(bot).send("Can I use the Parliament logo on my blog?")
    [answer] = sent(bot)
    [button] = [a for a in answer.card["actions"] if a.get("data", {}).get("route") == "dcct"]
    await adapter_for(bot).send(Activity(type=ActivityTypes.message, value=button["data"]))
    [_, reply] = sent(bot)
    assert reply.card is not None
    [(question, advice, route)] = calls
    assert route is Route.DCCT
    # The advice the answer card showed, carried in the button, not worked out again.
    shown = adviser.advise("Can I use the Parliament logo on my blog?")
    assert (advice.verdict, advice.clauses, advice.entry) == (
        shown.verdict,
        shown.clauses,
        shown.entry,
    )
    assert advice.entry is not None
    assert question.startswith("Can I use")


@pytest.mark.parametrize(
    "value",
    [
        {"action": "escalation.offer", "route": "ceo", "question": "x"},
        # Unsigned or altered card state: the bot never advises on text sent back to it.
        {"action": "escalation.offer", "route": "dcct", "question": "Can I tweet as SP?"},
        {"action": "escalation.offer", "route": "dcct", "answer": "eJzLSM3JyQcABiwCFQ.0000"},
        {"action": "feedback", "helpful": True, "entry": "party-political-posts"},
        {"action": "feedback", "helpful": "yes"},
        {"action": 42},
        {},
    ],
)
async def test_forged_or_stale_actions_get_a_polite_reply(
    adviser: Adviser, value: dict[str, Any]
) -> None:
    bot = await make_bot(adviser)
    await adapter_for(bot).send(Activity(type=ActivityTypes.message, value=value))
    [reply] = sent(bot)
    assert "couldn't act on that button" in reply.text


async def test_a_failing_turn_apologises_instead_of_going_silent(
    adviser: Adviser, caplog: pytest.LogCaptureFixture
) -> None:
    """The error handler is production's own (the one create_adapter gives the server's
    CloudAdapter), not one written here: the user gets the apology, the log a turn.failed
    with the exception."""

    class Broken(NoEscalations):
        async def my_requests(self, asker: Person) -> Reply:
            raise RuntimeError("boom")

    bot = await make_bot(adviser, escalations=Broken())
    adapter = TestAdapter(bot.on_turn)
    adapter.on_turn_error = create_adapter(Settings(), StaticBotTokens(), bot.turns).on_turn_error
    with caplog.at_level(logging.ERROR, logger="bot.channels"):
        await adapter.send("my requests")
    [apology] = sent(bot)
    assert apology.text == SORRY
    [failed] = [r for r in caplog.records if r.getMessage() == "turn.failed"]
    assert failed.exc_info is not None
    assert str(failed.exc_info[1]) == "boom"


async def test_web_chat_is_welcomed_once_however_often_it_says_it_opened(
    adviser: Adviser,
) -> None:
    """Direct Line's conversationUpdate for the bot and for the user, then the page's own
    webchat/join event: one welcome, with examples and how to reach a person."""
    bot = await make_bot(adviser)
    conversation = ConversationAccount(id="dl-conversation-1")
    user, robot = ChannelAccount(id="dl_oid-1", name="W"), ChannelAccount(id="bot")
    opened = [
        Activity(type=ActivityTypes.conversation_update, members_added=[robot]),
        Activity(type=ActivityTypes.conversation_update, members_added=[user]),
        Activity(type=ActivityTypes.event, name="webchat/join", value={}),
    ]
    for activity in opened:
        activity.channel_id, activity.conversation = "directline", conversation
        activity.recipient, activity.from_property = robot, user
        await adapter_for(bot).send(activity)
    [welcome] = sent(bot)
    shown = str(welcome.card)
    assert "Try one of these:" in shown
    assert "To reach a person:" in shown
    # Another conversation is welcomed in its turn; other events are not welcomes.
    other = Activity(
        type=ActivityTypes.event,
        name="webchat/join",
        channel_id="directline",
        conversation=ConversationAccount(id="dl-conversation-2"),
        recipient=robot,
        from_property=user,
    )
    await adapter_for(bot).send(other)
    other.name = "something/else"
    await adapter_for(bot).send(other)
    assert len(sent(bot)) == 2


async def test_a_greeting_gets_a_friendly_word_not_a_verdict_card(adviser: Adviser) -> None:
    bot = await make_bot(adviser)
    await adapter_for(bot).send("thanks!")
    [reply] = sent(bot)
    assert reply.card is None
    assert reply.text.startswith("You're welcome")
