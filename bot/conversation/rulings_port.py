"""What the dialogue needs from the DCCT's rulings desk (bot/rulings/desk.py provides it).

Card actions whose `action` starts with `ruling.` are passed to `Rulings.handle`
unchanged; the `rulings` command shows the desk.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from bot.conversation.types import Person, Reply


class Rulings(Protocol):
    async def overview(self, person: Person) -> Reply:
        """For DCCT members: proposals waiting for a second member, rulings in force."""
        ...

    async def handle(self, person: Person, data: Mapping[str, Any]) -> Reply:
        """A card action named `ruling.*` (add, propose, approve, reject, withdraw)."""
        ...
