"""The text channel on the real app: the same dialogue as Teams, escalation through the
local stand-ins, buttons pressed by number."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.channels.text.channel import UPDATED, Chosen, TextChannel
from bot.channels.text.render import Choice
from bot.channels.text.setup import open_text_channel, terminal_settings
from bot.conversation.labels import STALE_BUTTON
from bot.core import Adviser
from bot.settings import Settings

QUESTION = "Can I post about the Scottish Government's budget on my own account?"


class Shown:
    """What the channel printed, block by block, and a way to wait for more."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self._changed = asyncio.Event()

    def __call__(self, text: str) -> None:
        self.blocks.append(text)
        self._changed.set()

    async def until(self, pattern: str, start: int = 0) -> re.Match[str]:
        async def seen() -> re.Match[str]:
            while True:
                found = re.search(pattern, "\n\n".join(self.blocks[start:]), re.S)
                if found:
                    return found
                self._changed.clear()
                await self._changed.wait()

        return await asyncio.wait_for(seen(), timeout=10)


@pytest.fixture
async def chat(tmp_path: Path, adviser: Adviser) -> AsyncIterator[tuple[TextChannel, Shown]]:
    shown = Shown()
    settings = terminal_settings(Settings(), tmp_path / "chat.sqlite3")
    async with open_text_channel(settings, adviser, shown) as channel:
        yield channel, shown


def button(channel: TextChannel, text: str, title: str) -> Chosen:
    number = re.search(rf"\[(\d+)\] {re.escape(title)}", text)
    assert number, f"no button {title!r} in:\n{text}"
    found = channel.lookup(number.group(1))
    assert isinstance(found, Chosen)
    return found


async def test_commands_work_as_in_teams(chat: tuple[TextChannel, Shown]) -> None:
    channel, shown = chat
    await channel.welcome()
    assert "Try one of these:" in shown.blocks[-1]
    await channel.say("privacy")
    assert shown.blocks[-1].startswith("Privacy:")
    await channel.say("my requests")
    assert "You have no requests" in shown.blocks[-1]
    await channel.say("help")
    assert "Try one of these:" in shown.blocks[-1]


async def test_a_welcome_example_is_asked_when_pressed(chat: tuple[TextChannel, Shown]) -> None:
    channel, shown = chat
    await channel.welcome()
    example = button(
        channel, shown.blocks[-1], "Is it OK to post a photo from the office Christmas party?"
    )
    await channel.press(example, {})
    assert "Policy clauses:" in shown.blocks[-1]


async def test_a_number_that_is_no_button_gets_a_reason_and_text_is_a_message(
    chat: tuple[TextChannel, Shown],
) -> None:
    channel, _ = chat
    assert channel.lookup("can I post this?") is None
    reason = channel.lookup("99")
    assert isinstance(reason, str)
    assert "no button [99]" in reason


async def test_feedback_updates_the_card_and_other_buttons_keep_their_numbers(
    chat: tuple[TextChannel, Shown], tmp_path: Path
) -> None:
    channel, shown = chat
    await channel.say(QUESTION)
    answer = shown.blocks[-1]
    helpful = button(channel, answer, "👍 Helpful")
    manager = button(channel, answer, "Ask my line manager")
    await channel.press(helpful, {})
    update = shown.blocks[-1]
    assert update.startswith(UPDATED)
    assert "Thanks for your feedback." in update
    assert "Policy clauses" not in update, "only what changed is printed again"
    assert f"[{manager.number}] Ask my line manager" in update
    assert isinstance(channel.lookup(str(helpful.number)), str), "a button that went is gone"
    rows = (
        sqlite3.connect(tmp_path / "chat.sqlite3")
        .execute("SELECT helpful, channel, question FROM feedback")
        .fetchall()
    )
    assert rows == [(1, "terminal", None)]


async def test_not_helpful_opens_its_form_and_sends_the_comment(
    chat: tuple[TextChannel, Shown], tmp_path: Path
) -> None:
    channel, shown = chat
    await channel.say(QUESTION)
    await channel.press(button(channel, shown.blocks[-1], "👎 Not helpful"), {})
    form = shown.blocks[-1]
    assert "What was wrong or missing?" in form
    send = button(channel, form, "Send feedback")
    assert [i["id"] for i in send.inputs] == ["comment", "share_question"]
    await channel.press(send, {"comment": "Too strict", "share_question": "false"})
    assert "Thanks for your feedback." in shown.blocks[-1]
    rows = (
        sqlite3.connect(tmp_path / "chat.sqlite3")
        .execute("SELECT helpful, comment, question FROM feedback")
        .fetchall()
    )
    assert rows == [(0, "Too strict", None)]


async def test_the_policy_wording_shows_when_pressed(
    chat: tuple[TextChannel, Shown], adviser: Adviser
) -> None:
    channel, shown = chat
    await channel.say(QUESTION)
    await channel.press(button(channel, shown.blocks[-1], "Show the policy wording"), {})
    clause = adviser.advise(QUESTION).clauses[0]
    assert shown.blocks[-1].startswith(clause)


@pytest.mark.e2e
async def test_escalation_answered_by_the_local_stand_in_comes_back(
    chat: tuple[TextChannel, Shown],
) -> None:
    channel, shown = chat
    await channel.say(QUESTION)
    await channel.press(button(channel, shown.blocks[-1], "Ask my line manager"), {})
    preview = shown.blocks[-1]
    assert "Send my name and this question to your line manager" in preview
    send = button(channel, preview, "Send request")
    # Consent to send, and (off unless ticked) consent to the DCCT learning from it.
    assert {i["id"] for i in send.inputs} == {"question", "consent", "learn"}

    # Without consent nothing is sent, and the preview stays usable.
    await channel.press(send, {"question": QUESTION, "consent": "false"})
    assert "Nothing was sent" in shown.blocks[-1]
    mark = len(shown.blocks)
    await channel.press(send, {"question": QUESTION + " Edited.", "consent": "true"})
    assert "on its way to your line manager" in shown.blocks[-1]

    # The outbox worker delivers to the stand-in: the request card arrives by itself.
    request = await shown.until(
        r"asks: is this OK to post\?.*Edited\..*\[\d+\] Needs changes", mark
    )
    await shown.until(r"Delivered to .*local stand-in", mark)
    needs_changes = button(channel, request.group(0), "Needs changes")
    assert [i["id"] for i in needs_changes.inputs] == ["answer"]
    mark = len(shown.blocks)
    await channel.press(needs_changes, {"answer": "Keep it factual."})
    relayed = await shown.until(r"Answer from .*OK with changes.*Keep it factual\.", mark)
    assert "Send follow-up" in relayed.string[relayed.start() :]

    # The expert's card has no live buttons left, and my requests shows the answer.
    assert isinstance(channel.lookup(str(needs_changes.number)), str)
    await channel.say("my requests")
    assert re.search(r"#1 to line manager: answered.*Keep it factual\.", shown.blocks[-1], re.S)


async def test_a_forged_button_gets_the_stale_reply(chat: tuple[TextChannel, Shown]) -> None:
    channel, shown = chat
    await channel.say(QUESTION)
    manager = button(channel, shown.blocks[-1], "Ask my line manager")
    data = {"action": "escalation.withdraw", "ticket": 1, "sig": "forged"}
    forged = Choice("Withdraw", {"type": "Action.Submit", "data": data})
    await channel.press(Chosen(manager.number, manager.card_id, forged), {})
    assert shown.blocks[-1].split() == STALE_BUTTON.replace("**", "").split()


@pytest.mark.e2e
async def test_a_request_to_the_dcct_can_be_withdrawn_from_my_requests(
    chat: tuple[TextChannel, Shown],
) -> None:
    channel, shown = chat
    await channel.say(QUESTION)
    await channel.press(button(channel, shown.blocks[-1], "Ask the DCCT"), {})
    mark = len(shown.blocks)
    await channel.press(
        button(channel, shown.blocks[-1], "Send request"), {"question": QUESTION, "consent": "true"}
    )
    await shown.until(r"Delivered to DCCT \(local stand-in\)", mark)
    await channel.say("my requests")
    listed = shown.blocks[-1]
    assert "#1 to the DCCT: waiting for an answer" in listed
    await channel.press(button(channel, listed, "Withdraw"), {})
    await channel.say("my requests")
    assert "#1 to the DCCT: withdrawn" in shown.blocks[-1]
    assert "Withdraw" not in shown.blocks[-1]
