"""How replies leave a turn: plain JSON through our Bot Connector client, for either SDK.

Neither SDK's own connector is used for replies: ours posts the card JSON as it is (no
per-send model serialisation), URL-encodes Teams ids and retries Teams' throttling.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.channels.activity_protocol.activities import Activity, tenant_id
from bot.connector import BotConnectorClient
from bot.conversation import cards
from bot.conversation.types import Reply
from bot.http import SharedSession, TokenSource


class Outbound(Protocol):
    """How replies to `incoming` (the activity being answered) leave the turn."""

    async def typing(self, incoming: Activity) -> None: ...

    async def send(
        self, incoming: Activity, replies: list[Reply], acted_on: str | None
    ) -> None: ...


class ConnectorHolder:
    """The Bot Connector client over the app's shared session (only while it runs).

    Replies and escalation's proactive sends both go through it, whichever SDK is chosen.
    """

    def __init__(self, token: TokenSource, http: SharedSession) -> None:
        self.token = token
        self.http = http
        self.bearers: dict[str, str] = {}  # a local stand-in's own token, by serviceUrl

    def __call__(self) -> BotConnectorClient:
        return BotConnectorClient(self.http(), self.token, bearers=self.bearers)


# Direct Line (web chat) cannot edit a sent activity.
CHANNELS_WITHOUT_UPDATES = frozenset({"directline", "webchat"})
# Web chat pages (bot/channels/directline/static/chat.js, the SharePoint web part) put the id of the
# card's activity into each of its buttons' data under this key, since Direct Line has no
# replyToId for a card action; a reply that replaces that card names it in channelData
# under REPLACES, and the page shows the new card in the old one's place.
ACTIVITY_KEY = "webchat:activityId"
REPLACES = "replacesActivity"


def acted_on_card(incoming: Activity) -> str | None:
    """The id of the card activity a button press came from, if the channel says."""
    if incoming.get("replyToId"):
        return str(incoming["replyToId"])
    value = incoming.get("value")
    said = value.get(ACTIVITY_KEY) if isinstance(value, Mapping) else None
    return said[:200] if isinstance(said, str) and said else None


def updates_in_place(incoming: Activity, acted_on: str | None) -> bool:
    """Can a reply replace the card that was acted on through the Bot Connector? Web chat
    cannot: the new state goes out as a new card that says which one it replaces."""
    return bool(acted_on) and incoming.get("channelId") not in CHANNELS_WITHOUT_UPDATES


class ConnectorOutbound:
    """Replies as plain JSON through our Bot Connector client (retries Teams' 429s)."""

    def __init__(self, client: ConnectorHolder) -> None:
        self.client = client

    async def typing(self, incoming: Activity) -> None:
        await self._post(incoming, {"type": "typing"})

    async def send(self, incoming: Activity, replies: list[Reply], acted_on: str | None) -> None:
        in_place = updates_in_place(incoming, acted_on)
        for reply in replies:
            if reply.replace is not None and in_place:
                await self.client().update(
                    str(incoming.get("serviceUrl") or ""),
                    _conversation(incoming).get("id", ""),
                    acted_on or "",
                    reply_activity(incoming, attachments=[_card(reply.replace)]),
                )
            elif reply.replace is not None:  # web chat: a new card, shown in the old one's place
                replaces = {"channelData": {REPLACES: acted_on}} if acted_on else {}
                await self._post(incoming, {"attachments": [_card(reply.replace)], **replaces})
            if reply.card is not None:
                await self._post(incoming, {"attachments": [_card(reply.card)]})
            if reply.text:
                await self._post(incoming, {"text": reply.text, "textFormat": "plain"})

    async def _post(self, incoming: Activity, fields: dict[str, Any]) -> None:
        await self.client().send(
            str(incoming.get("serviceUrl") or ""),
            _conversation(incoming).get("id", ""),
            reply_activity(incoming, **fields),
            reply_to=incoming.get("id"),
        )


def reply_activity(incoming: Activity, **fields: Any) -> dict[str, Any]:
    """A message activity answering `incoming`: from the bot, to the sender, same thread."""
    bot = incoming.get("recipient")
    user = incoming.get("from")
    conversation = _conversation(incoming)
    addressed: dict[str, str] = {"id": conversation.get("id", "")}
    for key, value in (
        ("tenantId", tenant_id(incoming)),
        ("conversationType", conversation.get("conversationType")),
    ):
        if value:
            addressed[key] = value
    return {
        "type": "message",
        "channelId": incoming.get("channelId"),
        "serviceUrl": incoming.get("serviceUrl"),
        "from": _account(bot),
        "recipient": _account(user),
        "conversation": addressed,
        "replyToId": incoming.get("id"),
        "locale": incoming.get("locale") or "en-GB",
        **fields,
    }


def _conversation(incoming: Activity) -> dict[str, str]:
    conversation = incoming.get("conversation")
    if not isinstance(conversation, Mapping):
        return {}
    return {k: str(v) for k, v in conversation.items() if isinstance(v, str)}


def _account(account: object) -> dict[str, Any]:
    if not isinstance(account, Mapping):
        return {}
    return {"id": account.get("id"), "name": account.get("name")}


def _card(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": cards.CONTENT_TYPE, "content": content}
