"""A recording `Outbound`: what a turn would have sent, in order, for handler tests."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from bot.conversation.types import Reply


@dataclass
class RecordingOutbound:
    """Each entry is "typing" or a Reply, with the id of the card it acted on."""

    sent: list[tuple[str | Reply, str | None]] = field(default_factory=list)
    typing_shown: asyncio.Event = field(default_factory=asyncio.Event)

    async def typing(self, incoming: object) -> None:
        self.sent.append(("typing", None))
        self.typing_shown.set()

    async def send(self, incoming: object, replies: list[Reply], acted_on: str | None) -> None:
        self.sent += [(reply, acted_on) for reply in replies]

    @property
    def replies(self) -> list[Reply]:
        return [item for item, _ in self.sent if isinstance(item, Reply)]
