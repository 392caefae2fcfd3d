"""End to end over real HTTP: Teams activities in, cards out at the fake Bot Connector."""

from __future__ import annotations

from urllib.parse import unquote

import pytest

from bot.app import ADVISER_KEY
from bot.conversation.dialogue import SORRY
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from tests.channels.conftest import Running, actions_of, card_text, cards_in

# Every test runs once per Bot SDK; e2e: Teams activities in, cards out, over real HTTP.
pytestmark = [pytest.mark.usefixtures("bot_sdk"), pytest.mark.e2e]

USER = TeamsUser()


async def test_question_gets_an_answer_card_with_verdict_and_clauses(running: Running) -> None:
    url = running.connector.service_url
    activity = activities.message(
        "Can I post that the Conservatives are a disgrace on my own Twitter?", USER, url
    )
    sent = await running.turn(activity)
    reply = sent[0]
    # Replies go to the encoded Teams conversation id, threaded on the user's message.
    assert reply.conversation_id == USER.conversation_id
    assert unquote(reply.reply_to_id or "") == activity["id"]
    [card] = cards_in(sent)
    assert card["version"] == "1.5"
    text = card_text(card)
    assert text.startswith("✖ Not OK")
    assert "Policy clauses: D13" in text
    titles = [a["title"] for a in actions_of(card)]
    assert "Ask my line manager" in titles
    assert "Ask the DCCT" in titles
    assert "👍 Helpful" in titles


async def test_welcome_on_install_has_three_example_buttons(running: Running) -> None:
    sent = await running.turn(activities.bot_installed(USER, running.connector.service_url))
    [card] = cards_in(sent)
    assert "not for HR, IT or legal" in card_text(card)
    examples = [a for a in actions_of(card) if a["data"]["action"] == "ask"]
    assert len(examples) == 3


PRESS_RELEASE = "Can I share a Parliament press release on LinkedIn?"


async def test_example_button_is_answered_like_a_question(running: Running) -> None:
    """The press release example is an 'ask first' for the DCCT (D2, F2), the same card
    as typing the question."""
    url = running.connector.service_url
    data = {"action": "ask", "question": PRESS_RELEASE}
    sent = await running.turn(activities.card_submit(data, USER, url, reply_to="activity-9"))
    [card] = cards_in(sent)
    text = card_text(card)
    assert text.startswith("? Ask first")
    assert "Policy clauses: D2, F2" in text
    assert "Ask the DCCT" in [a["title"] for a in actions_of(card)]
    [typed] = cards_in(await running.turn(activities.message(PRESS_RELEASE, USER, url)))
    assert card_text(typed) == text


async def test_feedback_is_recorded_without_the_question_and_card_updates(
    running: Running,
) -> None:
    url = running.connector.service_url
    question = "Can I like a post by my MSP friend?"
    first = await running.turn(activities.message(question, USER, url))
    [card] = cards_in(first)
    helpful = next(a for a in actions_of(card) if a["title"] == "👍 Helpful")
    sent = await running.turn(
        activities.card_submit(helpful["data"], USER, url, reply_to="activity-1")
    )
    assert sent[0].method == "PUT"
    updated = cards_in(sent)[0]
    assert "Thanks for your feedback." in card_text(updated)
    assert "👍 Helpful" not in [a["title"] for a in actions_of(updated)], "feedback once per card"
    [row] = await running.feedback.all()
    assert row.helpful is True
    assert row.verdict == "not_ok"
    assert row.question is None
    assert row.entry == running.app[ADVISER_KEY].advise(question).entry
    assert row.policy_version.startswith("sha256:")
    # A second press on an old copy of the card updates its one row, never adds another.
    await running.turn(activities.card_submit(helpful["data"], USER, url, reply_to="activity-1"))
    assert len(await running.feedback.all()) == 1


async def test_not_helpful_with_opt_in_keeps_comment_and_question(running: Running) -> None:
    url = running.connector.service_url
    question = "Can I post about the office party?"
    [card] = cards_in(await running.turn(activities.message(question, USER, url)))
    show = next(a for a in actions_of(card) if a["title"] == "👎 Not helpful")
    data = dict(show["card"]["actions"][0]["data"], comment="Too vague", share_question="true")
    await running.turn(activities.card_submit(data, USER, url, reply_to="activity-7"))
    [row] = await running.feedback.all()
    assert (row.helpful, row.comment, row.question) == (False, "Too vague", question)


async def test_escalation_button_shows_a_preview_and_sends_nothing(running: Running) -> None:
    url = running.connector.service_url
    [card] = cards_in(await running.turn(activities.message("Can I tweet as SP?", USER, url)))
    offer = next(a for a in actions_of(card) if a["title"] == "Ask the DCCT")
    sent = await running.turn(activities.card_submit(offer["data"], USER, url, reply_to="a-3"))
    [preview] = cards_in(sent)
    assert "Nothing is sent until you tick the box" in card_text(preview)
    assert len(running.connector.sent) == 2  # the answer and the preview: nothing else


async def test_over_long_message_is_refused_clearly(running: Running) -> None:
    url = running.connector.service_url
    sent = await running.turn(activities.message("word " * 2000, USER, url))
    assert "I can check up to 4,000" in sent[0].activity["text"]


async def test_user_markup_is_never_rendered(running: Running) -> None:
    url = running.connector.service_url
    hostile = "<script>alert(1)</script> [click](https://evil.example) **bold**"
    data = {"action": "ask", "question": hostile}
    sent = await running.turn(activities.card_submit(data, USER, url, reply_to="activity-4"))
    text = card_text(cards_in(sent)[0])
    assert "<script>" not in text
    assert "](https://evil.example)" not in text


async def test_help_command(running: Running) -> None:
    sent = await running.turn(activities.message("Help!", USER, running.connector.service_url))
    assert "Social media policy adviser" in card_text(cards_in(sent)[0])


async def test_action_execute_invoke_returns_the_card_in_the_response(running: Running) -> None:
    url = running.connector.service_url
    data = {"action": "ask", "question": "Can I share a Parliament press release on LinkedIn?"}
    response = await running.http.post(
        f"{running.url}/api/messages", json=activities.card_execute(data, USER, url)
    )
    assert response.status == 200
    body = await response.json()
    assert body["statusCode"] == 200
    assert body["type"] == "application/vnd.microsoft.card.adaptive"
    assert body["value"]["type"] == "AdaptiveCard"
    assert card_text(body["value"]).startswith("? Ask first")


async def test_a_throttled_reply_still_reaches_the_user(running: Running) -> None:
    running.connector.fail_next(429, times=1)
    url = running.connector.service_url
    sent = await running.turn(activities.message("hello", TeamsUser(), url))
    [greeting] = sent
    assert greeting.activity["text"].startswith("Hello! I advise Scottish Parliament staff")


async def test_a_turn_that_fails_ends_with_an_apology_not_silence(running: Running) -> None:
    running.connector.fail_next(500, times=1)  # not a status worth retrying: the turn fails
    url = running.connector.service_url
    sent = await running.turn(activities.message("hello", TeamsUser(), url))
    assert sent[0].activity["text"] == SORRY


async def test_web_chat_gets_a_replacement_card_that_names_the_card_it_replaces(
    running: Running,
) -> None:
    """Direct Line cannot edit a sent card: the page stamps each button with its card's
    activity id, and the bot's new card says which one it replaces (chat.js swaps it in)."""
    url = running.connector.service_url
    asked = activities.message("Can I like a post by my MSP friend?", USER, url)
    asked["channelId"] = "directline"
    [card] = cards_in(await running.turn(asked))
    helpful = next(a for a in actions_of(card) if a["title"] == "👍 Helpful")
    pressed = activities.card_submit(
        {**helpful["data"], "webchat:activityId": "dl-conversation|0000003"}, USER, url, ""
    )
    pressed["channelId"] = "directline"
    del pressed["replyToId"]
    [sent] = await running.turn(pressed)
    assert sent.method == "POST"
    assert sent.activity["channelData"] == {"replacesActivity": "dl-conversation|0000003"}
    assert "Thanks for your feedback." in card_text(cards_in([sent])[0])
