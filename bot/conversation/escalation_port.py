"""What the dialogue needs from escalation (bot/escalation/service.py provides it).

The dialogue knows people only as `Person` values (plain data, no SDK types) so the
escalation service stays independent of any channel. Card actions whose `action`
starts with `escalation.` are passed to `Escalations.handle` unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.conversation.types import Person, Reply
from bot.core.types import Advice, Route


def escalation_route(value: object) -> Route | None:
    """A route from untrusted card data: `line_manager` or `dcct`, else None."""
    try:
        route = Route(str(value))
    except ValueError:
        return None
    return route if route is not Route.NONE else None


class Escalations(Protocol):
    async def offer(self, asker: Person, question: str, advice: Advice, route: Route) -> Reply:
        """Preview of exactly what would be sent, with consent, edit and cancel."""
        ...

    async def handle(self, actor: Person, data: Mapping[str, Any]) -> Reply:
        """A card action named `escalation.*` (confirm, cancel, reply, take, close…)."""
        ...

    async def my_requests(self, asker: Person) -> Reply:
        """The asker's open requests with their status."""
        ...
