"""The conversation's plain data: who is talking, and what the bot says back.

No SDK types: every channel maps its wire format to `Person` and renders `Reply`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Person:
    """Who is talking to the bot, as the channel told us."""

    user_id: str  # channel user id: Teams "29:…", web chat "dl_<aadObjectId>"
    name: str
    aad_object_id: str | None  # Entra object id; None for anonymous web chat users
    # From channelData.tenant.id: the Python Bot SDK drops conversation.tenantId.
    tenant_id: str | None
    channel_id: str  # "msteams", "directline", "emulator", …
    # Conversation reference as a plain dict (serviceUrl, channelId, conversation, bot,
    # user) so proactive messages work without SDK objects.
    conversation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Reply:
    """One thing the bot says: any of a new card, a replacement for the card acted on,
    and plain text (sent in that order)."""

    card: dict[str, Any] | None = None  # send as a new message
    text: str | None = None  # plain text reply
    replace: dict[str, Any] | None = None  # new content for the card that was acted on
