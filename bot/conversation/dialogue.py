"""What the bot says in reply to a message or a card action, whatever the channel.

Plain values in (`Person`, text, card data), plain replies out: each channel
translates. Keeping this free of any SDK lets the same logic serve Teams and
web chat, run under a fast test, and survive a move to another SDK.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot import logs
from bot.clock import Clock
from bot.conversation import cards
from bot.conversation.escalation_port import Escalations, escalation_route
from bot.conversation.insights_port import InsightsPort
from bot.conversation.labels import STALE_BUTTON
from bot.conversation.rulings_port import Rulings
from bot.conversation.signing import CardSigner
from bot.conversation.types import Person, Reply
from bot.core import Advice, Adviser
from bot.store.answers import AnswerEvent, AnswerLog
from bot.store.feedback import Feedback, FeedbackStore

log = logging.getLogger("bot.dialogue")

COMMANDS = {
    "help": "help",
    "menu": "help",
    "start": "help",
    "what can you do": "help",
    "my requests": "requests",
    "my request": "requests",
    "requests": "requests",
    "privacy": "privacy",
    "rulings": "rulings",
    "proposals": "rulings",
}
# For the DCCT only, so not in the command menu every member of staff sees.
DCCT_COMMANDS = {"insights": "insights", "show insights": "insights"}
_COMMAND_PUNCT = re.compile(r"[^\w ]+")
ANSWER = "answer"  # what an answer card's sealed state is for (see CardSigner.seal)


@dataclass(frozen=True)
class Answered:
    """What an answer card showed, sealed into its buttons: a press acts on this, never
    on advice worked out again from text the client sent back."""

    question: str
    advice: Advice
    card: str  # a random id of the card: feedback is one row per card, in every channel


class Dialogue:
    def __init__(
        self,
        adviser: Adviser,
        feedback: FeedbackStore,
        escalations: Escalations,
        clock: Clock,
        *,
        signer: CardSigner,
        max_chars: int,
        retention_days: int,
        rulings: Rulings | None = None,
        answers: AnswerLog | None = None,
        answer_days: int | None = None,
        insights: InsightsPort | None = None,
    ) -> None:
        self.adviser = adviser
        self.rulings = rulings  # the DCCT's desk; None where there is no escalation
        self.feedback = feedback
        self.escalations = escalations
        self.clock = clock
        self.signer = signer
        self.max_chars = max_chars
        self.retention_days = retention_days
        self.answers = answers
        self.answer_days = answer_days if answers is not None else None
        self.insights = insights

    def welcome(self) -> list[Reply]:
        return [Reply(card=cards.welcome_card(self.retention_days))]

    def team_welcome(self) -> list[Reply]:
        """Installed in a team: say what the bot does there (it answers only in 1:1)."""
        return [Reply(text=TEAM_WELCOME)]

    async def message(self, person: Person, text: str | None) -> list[Reply]:
        text = (text or "").strip()
        if not text:
            return [
                Reply(
                    text="I can only read text. Type your question, or paste the draft "
                    "post you want to check."
                )
            ]
        if len(text) > self.max_chars:
            log.info("message.too_long", extra=logs.fields(chars=len(text)))
            return [
                Reply(
                    text=f"That message is {len(text):,} characters long; I can check up to "
                    f"{self.max_chars:,}. Please paste just the post, or the part you are "
                    "unsure about."
                )
            ]
        said = _COMMAND_PUNCT.sub("", text.lower()).strip()
        command = COMMANDS.get(said) or DCCT_COMMANDS.get(said)
        if command == "help":
            return self.welcome()
        if command == "privacy":
            return [Reply(text=cards.privacy_text(self.retention_days, self.answer_days))]
        if command == "requests":
            return [await self.escalations.my_requests(person)]
        if command == "rulings" and self.rulings is not None:
            return [await self.rulings.overview(person)]
        if command == "insights":
            if self.insights is None:
                return [Reply(text="The insights are not available on this server.")]
            return [await self.insights.show(person)]
        return [await self._answer(text, channel=person.channel_id)]

    async def _answer(self, question: str, *, channel: str) -> Reply:
        """A new answer (counted for the insights, as an anonymous record) and its card."""
        # The judge runs a sentence encoder (tens of milliseconds, more for a long draft):
        # on a worker thread, so the event loop keeps serving everyone else meanwhile.
        advice = await asyncio.to_thread(self.adviser.advise, question)
        log.info(
            "advice.given",
            extra=logs.fields(
                entry=advice.entry,
                verdict=advice.verdict.value,
                band=advice.band.value,
                confidence=round(advice.confidence, 3),
                policy_version=advice.policy_version,
                small_talk=advice.small_talk,
                chars=len(question),
            ),
        )
        if advice.small_talk:  # "hi", "thanks", 👍: a friendly word, not a verdict card
            return Reply(text=advice.answer)  # and not a question: not counted
        await self._count(advice, channel)
        answered = Answered(question, advice, secrets.token_urlsafe(9))
        return Reply(card=self._card(answered))

    def _card(self, answered: Answered, feedback: str | None = None) -> dict[str, Any]:
        state = self.signer.seal(
            ANSWER,
            {"q": answered.question, "a": answered.advice.to_json(), "card": answered.card},
        )
        return cards.answer_card(
            answered.advice, self.adviser.knowledge, state=state, feedback=feedback
        )

    def _answered(self, data: Mapping[str, Any]) -> Answered | None:
        """The answer card a press came from, if its sealed state is genuine."""
        sealed = self.signer.unseal(ANSWER, data.get(ANSWER))
        if sealed is None:
            return None
        try:
            return Answered(str(sealed["q"]), Advice.from_json(sealed["a"]), str(sealed["card"]))
        except (KeyError, TypeError, ValueError):
            log.warning("action.bad_state")
            return None

    async def _count(self, advice: Advice, channel: str) -> None:
        """One anonymous answer record (no text, no person). Never costs the user a reply."""
        if self.answers is None:
            return
        event = AnswerEvent(
            answered_at=self.clock.now(),
            verdict=advice.verdict.value,
            entry=advice.entry,
            clauses=advice.clauses,
            band=advice.band.value,
            policy_version=advice.policy_version,
            channel=channel,
        )
        try:
            await self.answers.record(event)
        except Exception:
            log.exception("answers.record_failed")

    async def action(self, person: Person, data: Mapping[str, Any]) -> list[Reply]:
        """A button press. `data` is untrusted: every field is checked before use."""
        action = data.get("action")
        if action == "ask":  # an example or a "did you mean": a new question, as if typed
            question = data.get("question")
            if isinstance(question, str) and question.strip():
                return await self.message(person, question.strip()[: self.max_chars])
        elif action == "feedback" and isinstance(data.get("helpful"), bool):
            answered = self._answered(data)
            if answered is not None:
                return await self._feedback(person, data, answered)
        elif action == "escalation.offer":
            route = escalation_route(data.get("route"))
            answered = self._answered(data)
            if route is not None and answered is not None:
                offer = await self.escalations.offer(
                    person, answered.question, answered.advice, route
                )
                return [offer]
        elif isinstance(action, str) and action.startswith("escalation."):
            return [await self.escalations.handle(person, data)]
        if isinstance(action, str) and action.startswith("ruling.") and self.rulings is not None:
            return [await self.rulings.handle(person, data)]
        log.warning("action.unknown", extra=logs.fields(action=str(action)[:40]))
        return [Reply(text=STALE_BUTTON)]

    async def _feedback(
        self, person: Person, data: Mapping[str, Any], answered: Answered
    ) -> list[Reply]:
        helpful = bool(data["helpful"])
        advice = answered.advice
        comment = data.get("comment")
        comment = comment.strip()[:1000] if isinstance(comment, str) and comment.strip() else None
        share = str(data.get("share_question", "false")).lower() == "true"
        await self.feedback.record(
            Feedback(
                # One row per card: a second press on an old copy updates it, never adds.
                card_id=answered.card,
                entry=advice.entry,
                verdict=advice.verdict.value,
                policy_version=advice.policy_version,
                helpful=helpful,
                channel=person.channel_id,
                created_at=self.clock.now(),
                comment=comment,
                question=answered.question[: self.max_chars] if share else None,
            )
        )
        log.info(
            "feedback.recorded",
            extra=logs.fields(
                entry=advice.entry, helpful=helpful, comment=bool(comment), shared=share
            ),
        )
        # The card itself now says thanks, and has no feedback buttons left to press.
        state = "helpful" if helpful else "not_helpful"
        return [Reply(replace=self._card(answered, feedback=state))]


TEAM_WELCOME = (
    "Hello. I'm the social media policy adviser. Staff talk to me in a personal chat; in "
    "this team I only post requests that need a person's judgement."
)
# Said by a channel when a turn failed before the dialogue could answer.
SORRY = (
    "Sorry, something went wrong on my side and I couldn't answer. Nothing you sent was "
    "lost; please try again in a minute. If it keeps happening, tell the DCCT."
)
