"""The Bot Framework activity handler: activities in, `Dialogue` calls, `Reply`s out.

Thin on purpose: what the bot says is in bot/conversation; how replies leave the turn is
the `Outbound` it is given (outbound.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Mapping
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import AdaptiveCardInvokeResponse, ChannelAccount

from bot import logs
from bot.channels.botframework.activities import (
    is_personal,
    person_from_activity,
    strip_bot_mention,
)
from bot.channels.botframework.outbound import Outbound
from bot.conversation import cards
from bot.conversation.dialogue import Dialogue
from bot.conversation.types import Reply

log = logging.getLogger("bot.channels.botframework")


class AdviserBot(TeamsActivityHandler):  # type: ignore[misc]
    """Thin: turns activities into Dialogue calls and Replies into activities."""

    def __init__(self, dialogue: Dialogue, typing_delay: float, outbound: Outbound) -> None:
        self.dialogue = dialogue
        self.typing_delay = typing_delay
        self.outbound = outbound
        self._welcomed: dict[str, float] = {}

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        person = person_from_activity(activity)
        if isinstance(activity.value, dict) and not (activity.text or "").strip():
            work = self.dialogue.action(person, activity.value, activity.reply_to_id)
        else:
            work = self.dialogue.message(person, strip_bot_mention(activity))
        replies = await self._with_typing(turn_context, work)
        await self.outbound.send(turn_context, replies, activity.reply_to_id)

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any) -> Any:
        """Action.Execute (Teams universal actions): the reply card replaces the old one."""
        action = getattr(invoke_value, "action", None) or {}
        data = action.get("data") if isinstance(action, Mapping) else None
        data = dict(data) if isinstance(data, Mapping) else {}
        verb = action.get("verb") if isinstance(action, Mapping) else None
        if isinstance(verb, str) and "action" not in data:
            data["action"] = verb
        activity = turn_context.activity
        replies = await self.dialogue.action(person_from_activity(activity), data, None)
        # The invoke response replaces the card; any other reply goes out as a message.
        replacement = next((r.replace or r.card for r in replies if r.replace or r.card), None)
        texts = [r.text for r in replies if r.text]
        if replacement is None:
            replacement = cards.notice_card("\n\n".join(texts) or "Done.")
            texts = []
        await self.outbound.send(turn_context, [Reply(text=t) for t in texts], None)
        return AdaptiveCardInvokeResponse(
            status_code=200, type=cards.CONTENT_TYPE, value=replacement
        )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(m.id == bot_id for m in members_added) or (
            is_personal(activity) and any(m.id != bot_id for m in members_added)
        ):
            await self._welcome(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        # Teams sends both installationUpdate and conversationUpdate on install: one welcome.
        conversation = turn_context.activity.conversation.id
        now = time.monotonic()
        if now - self._welcomed.get(conversation, -1e9) < 60:
            return
        self._welcomed = {c: t for c, t in self._welcomed.items() if now - t < 60}
        self._welcomed[conversation] = now
        if is_personal(turn_context.activity):
            await self.outbound.send(turn_context, self.dialogue.welcome(), None)
        else:
            await self.outbound.send(turn_context, self.dialogue.team_welcome(), None)

    async def _with_typing(
        self, turn_context: TurnContext, work: Awaitable[list[Reply]]
    ) -> list[Reply]:
        """Show typing only if the answer is slower than `typing_delay`."""

        async def typing_later() -> None:
            await asyncio.sleep(self.typing_delay)
            await self.outbound.typing(turn_context)

        typing = asyncio.create_task(typing_later())
        try:
            return await work
        finally:
            if not typing.done():
                typing.cancel()
            elif typing.exception() is not None:
                log.warning("typing.failed", extra=logs.fields(error=str(typing.exception())))
