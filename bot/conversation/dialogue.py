"""What the bot says in reply to a message or a card action, whatever the channel.

Plain values in (`Person`, text, card data), plain replies out: each channel
translates. Keeping this free of any SDK lets the same logic serve Teams and
web chat, run under a fast test, and survive a move to another SDK.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from typing import Any

from bot import logs
from bot.clock import Clock
from bot.conversation import cards
from bot.conversation.escalation_port import Escalations, escalation_route
from bot.conversation.labels import STALE_BUTTON
from bot.conversation.types import Person, Reply
from bot.core import Advice, Adviser
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
}
_COMMAND_PUNCT = re.compile(r"[^\w ]+")


class Dialogue:
    def __init__(
        self,
        adviser: Adviser,
        feedback: FeedbackStore,
        escalations: Escalations,
        clock: Clock,
        *,
        max_chars: int,
        retention_days: int,
    ) -> None:
        self.adviser = adviser
        self.feedback = feedback
        self.escalations = escalations
        self.clock = clock
        self.max_chars = max_chars
        self.retention_days = retention_days

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
        command = COMMANDS.get(_COMMAND_PUNCT.sub("", text.lower()).strip())
        if command == "help":
            return self.welcome()
        if command == "privacy":
            return [Reply(text=cards.privacy_text(self.retention_days))]
        if command == "requests":
            return [await self.escalations.my_requests(person)]
        return [await self._answer(text)]

    async def _advise(self, question: str) -> Advice:
        # The judge runs a sentence encoder (tens of milliseconds, more for a long draft):
        # on a worker thread, so the event loop keeps serving everyone else meanwhile.
        return await asyncio.to_thread(self.adviser.advise, question)

    async def _answer(self, question: str, feedback: str | None = None) -> Reply:
        advice = await self._advise(question)
        log.info(
            "advice.given",
            extra=logs.fields(
                entry=advice.entry,
                verdict=advice.verdict.value,
                band=advice.band.value,
                confidence=round(advice.confidence, 3),
                chars=len(question),
            ),
        )
        card = cards.answer_card(advice, self.adviser.knowledge, question, feedback=feedback)
        return Reply(card=card)

    async def action(
        self, person: Person, data: Mapping[str, Any], card_id: str | None
    ) -> list[Reply]:
        """A button press. `data` is untrusted: every field is checked before use."""
        action = data.get("action")
        question = data.get("question")
        if isinstance(question, str):
            question = question.strip()[: self.max_chars]
        if action == "ask" and question:
            return await self.message(person, question)
        if action == "feedback" and isinstance(data.get("helpful"), bool):
            return await self._feedback(person, data, card_id)
        if action == "escalation.offer" and question:
            route = escalation_route(data.get("route"))
            if route is None:
                return [Reply(text=STALE_BUTTON)]
            advice = await self._advise(question)
            return [await self.escalations.offer(person, question, advice, route)]
        if isinstance(action, str) and action.startswith("escalation."):
            return [await self.escalations.handle(person, data)]
        log.warning("action.unknown", extra=logs.fields(action=str(action)[:40]))
        return [Reply(text=STALE_BUTTON)]

    async def _feedback(
        self, person: Person, data: Mapping[str, Any], card_id: str | None
    ) -> list[Reply]:
        helpful = bool(data["helpful"])
        question = data.get("question") if isinstance(data.get("question"), str) else None
        entry = data.get("entry") if isinstance(data.get("entry"), str) else None
        if entry is not None and self.adviser.knowledge.entry(entry) is None:
            entry = None  # a forged or stale id is not worth recording as such
        comment = data.get("comment")
        comment = comment.strip()[:1000] if isinstance(comment, str) and comment.strip() else None
        share = str(data.get("share_question", "false")).lower() == "true"
        verdict = data.get("verdict")
        await self.feedback.record(
            Feedback(
                card_id=card_id or f"no-card:{self.clock.now().isoformat()}",
                entry=entry,
                verdict=verdict if isinstance(verdict, str) else "",
                policy_version=self.adviser.knowledge.policy_version,
                helpful=helpful,
                channel=person.channel_id,
                created_at=self.clock.now(),
                comment=comment,
                question=question[: self.max_chars] if share and question else None,
            )
        )
        log.info(
            "feedback.recorded",
            extra=logs.fields(entry=entry, helpful=helpful, comment=bool(comment), shared=share),
        )
        thanks = "Thanks for your feedback." + (
            "" if helpful else " It goes to the team who maintain these answers."
        )
        if question:
            state = "helpful" if helpful else "not_helpful"
            updated = (await self._answer(question, feedback=state)).card
            if card_id:  # the answer card shows the thanks in place
                return [Reply(replace=updated)]
            return [Reply(text=thanks)]
        return [Reply(text=thanks)]


TEAM_WELCOME = (
    "Hello. I'm the social media policy adviser. Staff talk to me in a personal chat; in "
    "this team I only post requests that need a person's judgement."
)
# Said by a channel when a turn failed before the dialogue could answer.
SORRY = (
    "Sorry, something went wrong on my side and I couldn't answer. Nothing you sent was "
    "lost; please try again in a minute. If it keeps happening, tell the DCCT."
)
