"""Realistic Teams activities, as Teams posts them to `/api/messages`.

Used by the end-to-end tests, the benchmark and anyone poking a local server by hand.
Ids have Teams' shapes (colons and semicolons), because URL-encoding bugs hide there.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

_ids = itertools.count(1)

TENANT = "9f2a1c55-0000-4000-8000-5c077a1d0001"
BOT_ID = "28:bot-app-id"


@dataclass
class TeamsUser:
    id: str = "29:1a2b3c-user-one"
    name: str = "Morag Stewart"
    aad_object_id: str = "6c1f0a8e-1111-4222-8333-000000000001"
    conversation_id: str = "a:1Hk9x_personal-chat;messageid=1700000000000"
    extra: dict[str, Any] = field(default_factory=dict)


def _base(kind: str, user: TeamsUser, service_url: str, **extra: Any) -> dict[str, Any]:
    number = next(_ids)
    return {
        "type": kind,
        "id": f"1700000000{number:06d}",
        "timestamp": "2026-11-25T09:00:00.000Z",
        "localTimestamp": "2026-11-25T09:00:00.000+00:00",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": user.id, "name": user.name, "aadObjectId": user.aad_object_id},
        "conversation": {
            "conversationType": "personal",
            "tenantId": TENANT,
            "id": user.conversation_id,
        },
        "recipient": {"id": BOT_ID, "name": "Policy adviser"},
        "channelData": {"tenant": {"id": TENANT}},
        "locale": "en-GB",
        **extra,
    }


def message(text: str, user: TeamsUser, service_url: str) -> dict[str, Any]:
    return _base("message", user, service_url, text=text, textFormat="plain")


def card_submit(
    data: dict[str, Any], user: TeamsUser, service_url: str, reply_to: str
) -> dict[str, Any]:
    """What Teams sends for an Action.Submit: a message with `value` and no text."""
    return _base("message", user, service_url, value=data, replyToId=reply_to)


def card_execute(data: dict[str, Any], user: TeamsUser, service_url: str) -> dict[str, Any]:
    """Action.Execute (universal actions): an invoke named adaptiveCard/action."""
    return _base(
        "invoke",
        user,
        service_url,
        name="adaptiveCard/action",
        value={"action": {"type": "Action.Execute", "verb": data.get("action"), "data": data}},
    )


def bot_installed(user: TeamsUser, service_url: str) -> dict[str, Any]:
    return _base(
        "conversationUpdate",
        user,
        service_url,
        membersAdded=[{"id": BOT_ID}],
    )
