"""What each kind of activity makes the dialogue do, whichever SDK routed it.

An SDK's handler only recognises the kind of activity and passes its JSON here: a
message or a card's Action.Submit, an Action.Execute invoke, members added, the app
installed, or a failed turn. What the bot says is in bot/conversation; how replies leave
is the `Outbound` given.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from typing import Any

from bot import logs
from bot.channels.activity_protocol.activities import (
    Activity,
    added_member_ids,
    executed_data,
    is_personal,
    person_from_activity,
    strip_bot_mention,
    submitted_data,
)
from bot.channels.activity_protocol.outbound import Outbound, acted_on_card
from bot.channels.directline.identity import WebChatIds
from bot.clock import Clock
from bot.conversation import cards
from bot.conversation.dialogue import SORRY, Dialogue
from bot.conversation.types import Reply
from bot.store.welcomes import WelcomeStore

log = logging.getLogger("bot.channels")
# Said on opening by web chat pages (bot/channels/directline/static/chat.js, the web part).
JOIN_EVENT = "webchat/join"


class Turns:
    def __init__(
        self,
        dialogue: Dialogue,
        typing_delay: float,
        outbound: Outbound,
        welcomes: WelcomeStore,
        clock: Clock,
        web_chat_ids: WebChatIds,
    ) -> None:
        self.dialogue = dialogue
        self.typing_delay = typing_delay
        self.outbound = outbound
        self.welcomes = welcomes
        self.clock = clock
        self.web_chat_ids = web_chat_ids

    async def message(self, incoming: Activity) -> None:
        """A typed message, or the data of a card's Action.Submit."""
        person = person_from_activity(incoming, self.web_chat_ids)
        data = submitted_data(incoming)
        if data is not None:
            work = self.dialogue.action(person, data)
        else:
            work = self.dialogue.message(person, strip_bot_mention(incoming))
        replies = await self._with_typing(incoming, work)
        await self.outbound.send(incoming, replies, acted_on_card(incoming))

    async def invoke(self, incoming: Activity) -> tuple[int, dict[str, Any]]:
        """An invoke's (status, body), never an exception: Action.Execute is answered with
        the new card, anything malformed or unsupported with a 400 in the error shape Teams
        expects. (The SDKs' own error path returns a model the endpoint cannot serialise,
        and unknown names become a 501 or a failed turn with an apology.)"""
        if incoming.get("name") == "adaptiveCard/action":
            value = incoming.get("value")
            action = value.get("action") if isinstance(value, Mapping) else None
            if not isinstance(action, Mapping) or action.get("type") != "Action.Execute":
                return invoke_error(400, "BadRequest", "expected an Action.Execute action")
            card = await self.card_executed(incoming)
            return 200, {"statusCode": 200, "type": cards.CONTENT_TYPE, "value": card}
        log.info("invoke.unsupported", extra=logs.fields(name=str(incoming.get("name"))[:60]))
        return invoke_error(400, "NotSupported", "this bot does not handle that invoke")

    async def card_executed(self, incoming: Activity) -> dict[str, Any]:
        """Action.Execute (Teams universal actions): returns the card that replaces the
        one acted on; any other reply goes out as a message."""
        replies = await self.dialogue.action(
            person_from_activity(incoming, self.web_chat_ids), executed_data(incoming)
        )
        replacement = next((r.replace or r.card for r in replies if r.replace or r.card), None)
        texts = [r.text for r in replies if r.text]
        if replacement is None:
            replacement = cards.notice_card("\n\n".join(texts) or "Done.")
            texts = []
        await self.outbound.send(incoming, [Reply(text=t) for t in texts], None)
        return replacement

    async def members_added(self, incoming: Activity) -> None:
        bot_id = (incoming.get("recipient") or {}).get("id")
        added = added_member_ids(incoming)
        if bot_id in added or (is_personal(incoming) and any(m != bot_id for m in added)):
            await self.installed(incoming)

    async def installed(self, incoming: Activity) -> None:
        # Channels say "opened" more than once (Teams: installationUpdate and
        # conversationUpdate; web chat: conversationUpdate and webchat/join), perhaps to
        # two replicas: the store lets one of them welcome, once per conversation.
        conversation = str((incoming.get("conversation") or {}).get("id") or "")
        if not await self.welcomes.first(conversation, self.clock.now()):
            return
        if is_personal(incoming):
            await self.outbound.send(incoming, self.dialogue.welcome(), None)
        else:
            await self.outbound.send(incoming, self.dialogue.team_welcome(), None)

    async def event(self, incoming: Activity) -> None:
        """An event activity: web chat's `webchat/join` is a first open; others are ignored."""
        if incoming.get("name") == JOIN_EVENT:
            await self.installed(incoming)

    async def failed(self, incoming: Activity, error: Exception) -> None:
        """A turn raised: log it, and tell the user rather than going silent."""
        log.error(
            "turn.failed",
            exc_info=error,
            extra=logs.fields(
                activity_type=incoming.get("type"), channel=incoming.get("channelId")
            ),
        )
        try:
            await self.outbound.send(incoming, [Reply(text=SORRY)], None)
        except Exception as exc:  # the connector itself may be what failed
            log.error("turn.apology_failed", extra=logs.fields(error=str(exc)))

    async def _with_typing(self, incoming: Activity, work: Awaitable[list[Reply]]) -> list[Reply]:
        """Show typing only if the answer is slower than `typing_delay`."""

        async def typing_later() -> None:
            await asyncio.sleep(self.typing_delay)
            await self.outbound.typing(incoming)

        typing = asyncio.create_task(typing_later())
        try:
            return await work
        finally:
            if not typing.done():
                typing.cancel()
            elif typing.exception() is not None:
                log.warning("typing.failed", extra=logs.fields(error=str(typing.exception())))


def invoke_error(status: int, code: str, message: str) -> tuple[int, dict[str, Any]]:
    """An invoke response in the Adaptive Card error shape, as plain JSON."""
    body = {
        "statusCode": status,
        "type": "application/vnd.microsoft.error",
        "value": {"code": code, "message": message},
    }
    return status, body
