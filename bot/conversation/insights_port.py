"""What the dialogue needs from the insights (bot/insights/service.py provides it)."""

from __future__ import annotations

from typing import Protocol

from bot.conversation.types import Person, Reply


class InsightsPort(Protocol):
    async def show(self, person: Person) -> Reply:
        """The insights card for a member of the DCCT team; a refusal for anyone else."""
        ...
