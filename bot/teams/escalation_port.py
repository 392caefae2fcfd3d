"""What the chat handler needs from escalation (bot/escalation/service.py provides it).

The handler knows people only as `Person` values (plain data, no botbuilder types) so
the escalation service stays independent of the Bot Framework SDK. Card actions whose
`action` starts with `escalation.` are passed to `Escalations.handle` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.types import Advice, Route


@dataclass(frozen=True)
class Person:
    """Who is talking to the bot, as the channel told us."""

    user_id: str  # channel user id: Teams "29:…", web chat "dl_<aadObjectId>"
    name: str
    aad_object_id: str | None  # Entra object id; None for anonymous web chat users
    tenant_id: str | None  # from channelData.tenant.id (botbuilder drops conversation.tenantId)
    channel_id: str  # "msteams", "directline", "emulator", …
    # Conversation reference as a plain dict (serviceUrl, channelId, conversation, bot,
    # user) so proactive messages work without botbuilder objects.
    conversation: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """What to show after an escalation step."""

    card: dict[str, Any] | None = None  # send as a new message
    replace: dict[str, Any] | None = None  # replace the card whose button was pressed
    text: str | None = None  # plain text reply


def escalation_route(value: object) -> Route | None:
    """A route from untrusted card data: `line_manager` or `dcct`, else None."""
    try:
        route = Route(str(value))
    except ValueError:
        return None
    return route if route is not Route.NONE else None


class Escalations(Protocol):
    async def offer(self, asker: Person, question: str, advice: Advice, route: Route) -> Outcome:
        """Preview of exactly what would be sent, with consent, edit and cancel."""
        ...

    async def handle(self, actor: Person, data: Mapping[str, Any]) -> Outcome:
        """A card action named `escalation.*` (confirm, cancel, reply, take, close…)."""
        ...

    async def my_requests(self, asker: Person) -> Outcome:
        """The asker's open requests with their status."""
        ...
