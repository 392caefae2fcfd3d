"""How replies leave a Bot Framework turn: plain JSON through our Bot Connector client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from botbuilder.core import TurnContext

from bot.connector import BotConnectorClient
from bot.conversation import cards
from bot.conversation.types import Reply


class Outbound(Protocol):
    """How replies leave a turn."""

    async def typing(self, turn_context: TurnContext) -> None: ...

    async def send(
        self, turn_context: TurnContext, replies: list[Reply], acted_on: str | None
    ) -> None: ...


# Direct Line (web chat) cannot edit a sent activity.
CHANNELS_WITHOUT_UPDATES = frozenset({"directline", "webchat"})


def updates_in_place(turn_context: TurnContext, acted_on: str | None) -> bool:
    """Can a reply replace the card that was acted on? Otherwise the new state is sent
    as a new card, so nothing the user should see is dropped."""
    return bool(acted_on) and turn_context.activity.channel_id not in CHANNELS_WITHOUT_UPDATES


class ConnectorOutbound:
    """Replies as plain JSON through our Bot Connector client (retries Teams' 429s)."""

    def __init__(self, client: Callable[[], BotConnectorClient]) -> None:
        self.client = client

    async def typing(self, turn_context: TurnContext) -> None:
        await self._post(turn_context, {"type": "typing"})

    async def send(
        self, turn_context: TurnContext, replies: list[Reply], acted_on: str | None
    ) -> None:
        incoming = turn_context.activity
        in_place = updates_in_place(turn_context, acted_on)
        for reply in replies:
            if reply.replace is not None and in_place:
                await self.client().update(
                    incoming.service_url,
                    incoming.conversation.id,
                    acted_on or "",
                    self._activity(turn_context, attachments=[_card(reply.replace)]),
                )
            elif reply.replace is not None:  # web chat: the new state comes as a new card
                await self._post(turn_context, {"attachments": [_card(reply.replace)]})
            if reply.card is not None:
                await self._post(turn_context, {"attachments": [_card(reply.card)]})
            if reply.text:
                await self._post(turn_context, {"text": reply.text, "textFormat": "plain"})

    async def _post(self, turn_context: TurnContext, fields: dict[str, Any]) -> None:
        incoming = turn_context.activity
        await self.client().send(
            incoming.service_url,
            incoming.conversation.id,
            self._activity(turn_context, **fields),
            reply_to=incoming.id,
        )

    @staticmethod
    def _activity(turn_context: TurnContext, **fields: Any) -> dict[str, Any]:
        incoming = turn_context.activity
        bot = incoming.recipient
        user = incoming.from_property
        conversation = incoming.conversation
        activity: dict[str, Any] = {
            "type": "message",
            "channelId": incoming.channel_id,
            "serviceUrl": incoming.service_url,
            "from": {"id": bot.id, "name": bot.name} if bot else {},
            "recipient": {"id": user.id, "name": user.name} if user else {},
            "conversation": {"id": conversation.id},
            "replyToId": incoming.id,
            "locale": incoming.locale or "en-GB",
            **fields,
        }
        if conversation.tenant_id or conversation.conversation_type:
            activity["conversation"].update(
                {
                    k: v
                    for k, v in (
                        ("tenantId", conversation.tenant_id),
                        ("conversationType", conversation.conversation_type),
                    )
                    if v
                }
            )
        return activity


def _card(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": cards.CONTENT_TYPE, "content": content}
