"""Every feedback record carries the policy version of the answer it is about: the one
sealed into the answer card when it was given, not the one in force when it is pressed."""

from __future__ import annotations

from bot.app import ADVISER_KEY, SIGNER_KEY
from bot.conversation.dialogue import ANSWER
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from tests.channels.conftest import Running, actions_of, cards_in, running

__all__ = ["running"]
USER = TeamsUser()
OLDER = "sha256:0123456789ab"


async def test_feedback_records_the_policy_version_the_answer_was_given_under(
    running: Running,
) -> None:
    url = running.connector.service_url
    signer = running.app[SIGNER_KEY]
    current = running.app[ADVISER_KEY].knowledge.policy_version
    [card] = cards_in(await running.turn(activities.message("Can I post about my cat?", USER, url)))
    helpful = next(a for a in actions_of(card) if a["title"] == "👍 Helpful")["data"]
    state = signer.unseal(ANSWER, helpful[ANSWER])
    assert state is not None
    assert state["a"]["policy_version"] == current
    # A card the bot sealed before the policy text changed: its answer names the older one.
    earlier = {**state, "a": {**state["a"], "policy_version": OLDER}, "card": "before-change"}
    older = {**helpful, ANSWER: signer.seal(ANSWER, earlier)}
    await running.turn(activities.card_submit(older, USER, url, reply_to="activity-1"))
    await running.turn(activities.card_submit(helpful, USER, url, reply_to="activity-2"))
    # Altered in the client without the key: refused, nothing recorded.
    body, mac = helpful[ANSWER].split(".")
    forged = {**helpful, ANSWER: f"{body}x.{mac}"}
    await running.turn(activities.card_submit(forged, USER, url, reply_to="activity-3"))
    rows = {row.card_id: row.policy_version for row in await running.feedback.all()}
    assert rows == {"before-change": OLDER, state["card"]: current}
