"""Local mode with no Graph: the asker's own chat stands in for the manager, so a
newcomer can try the whole flow alone. Clearly labelled, and only without Graph."""

from __future__ import annotations

import pytest

from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from tests.channels.conftest import Running, actions_of, card_text, cards_in

# Every test runs once per Bot SDK; e2e: the whole local escalation over real HTTP.
pytestmark = [pytest.mark.usefixtures("bot_sdk"), pytest.mark.e2e]

USER = TeamsUser()


async def test_the_asker_plays_their_own_line_manager(running: Running) -> None:
    url = running.connector.service_url
    question = "Can I post about the Scottish Government's budget on my own account?"
    [answer] = cards_in(await running.turn(activities.message(question, USER, url)))
    offer = next(a for a in actions_of(answer) if a["title"] == "Ask my line manager")
    [preview] = cards_in(await running.turn(activities.card_submit(offer["data"], USER, url, "a")))
    send = next(a for a in actions_of(preview) if a["title"] == "Send request")
    data = {**send["data"], "question": question, "consent": "true"}
    # The confirmation replaces the preview; then the request and the delivery notice.
    sent = await running.turn(activities.card_submit(data, USER, url, "b"), replies=3)
    texts = [card_text(c) for c in cards_in(sent)]
    assert any("on its way to your line manager" in t for t in texts)
    request = next(c for c in cards_in(sent) if "asks: is this OK to post?" in card_text(c))
    assert any("local stand-in" in t for t in texts)
    reply = next(a for a in actions_of(request) if a["title"] == "Needs changes")
    answer_data = {**reply["data"], "answer": "Keep it factual."}
    sent = await running.turn(activities.card_submit(answer_data, USER, url, "c"), replies=2)
    relayed = [c for c in cards_in(sent) if "Answer from" in card_text(c)]
    assert relayed
    assert "OK with changes" in card_text(relayed[0])
