"""Local mode, no DCCT team: whoever talks to the bot stands in for the DCCT, so the whole
loop can be tried alone, with a second local user (another browser tab) as the second
pair of eyes."""

from __future__ import annotations

from typing import Any

from bot.app import ADVISER_KEY
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.rulings.desk import OWN_PROPOSAL
from tests.channels.conftest import Running, actions_of, card_text, cards_in, running

__all__ = ["running"]
USER = TeamsUser()
OTHER_TAB = TeamsUser(
    id="29:local-two",
    name="Local user",
    aad_object_id="local-two",
    conversation_id="a:local-two-chat",
)
QUESTION = "Can I share the committee's published report on rural housing on my LinkedIn?"


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["title"] == title)["data"]  # type: ignore[no-any-return]


async def test_the_local_user_plays_the_dcct_and_a_second_tab_approves(running: Running) -> None:
    url = running.connector.service_url

    async def press(user: TeamsUser, data: dict[str, Any], replies: int = 1) -> list[Any]:
        return await running.turn(activities.card_submit(data, user, url, "x"), replies=replies)

    [answer] = cards_in(await running.turn(activities.message(QUESTION, USER, url)))
    [preview] = cards_in(await press(USER, button(answer, "Ask the DCCT")))
    send = {**button(preview, "Send request"), "question": QUESTION, "consent": "true",
            "learn": "true"}  # fmt: skip
    sent = await press(USER, send, replies=3)
    request = next(c for c in cards_in(sent) if "asks: is this OK to post?" in card_text(c))
    sent = await press(USER, {**button(request, "OK to post"), "answer": ""}, replies=2)
    answered = next(c for c in cards_in(sent) if "asks: is this OK to post?" in card_text(c))
    [form] = cards_in(await press(USER, button(answered, "Add to the adviser")))
    fields = {"question": QUESTION, "verdict": "ok", "clauses": "D2", "route": "", "answer": ""}
    [proposal] = cards_in(await press(USER, {**button(form, "Propose"), **fields}))
    [own] = await press(USER, button(proposal, "Approve"))
    assert own.activity["text"] == OWN_PROPOSAL

    [desk] = cards_in(await running.turn(activities.message("rulings", OTHER_TAB, url)))
    assert "Waiting for a second member of the DCCT" in card_text(desk)
    [approved] = cards_in(await press(OTHER_TAB, button(desk, "Approve")))
    assert "Approved" in card_text(approved)
    assert [r.verdict.value for r in running.app[ADVISER_KEY].rulings] == ["ok"]
