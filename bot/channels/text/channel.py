"""The text channel: what a person types goes to the same `Dialogue` as Teams and web chat,
and what it replies is shown as text.

Like the Bot Framework handler, it only translates: a typed line is `Dialogue.message`, a
typed number presses that card button (`Dialogue.action` with the button's data and the
card's input values, as Teams would send them), and every `Reply` is rendered by
render.py. A reply that replaces a card (feedback given, a request answered) prints what
changed; the buttons that are still there keep their numbers, the others stop working.

The channel runs on the event loop; the terminal reads keys on the main thread and asks
`lookup` (thread-safe) what a typed number means before it prompts for inputs.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from bot import logs
from bot.channels.text.render import (
    Choice,
    Style,
    plain_text,
    render_card,
    render_elements,
)
from bot.conversation.cards import CONTENT_TYPE
from bot.conversation.dialogue import SORRY, Dialogue
from bot.conversation.types import Person, Reply

log = logging.getLogger("bot.channels.text")

SUBMITS = frozenset({"Action.Submit", "Action.Execute"})
_NUMBER = re.compile(r"\[?\s*(\d{1,6})\s*\]?")
UPDATED = "↻ updated:"


@dataclass(frozen=True)
class Chosen:
    """A button the person picked by its number, on the card `card_id`."""

    number: int
    card_id: str
    choice: Choice

    @property
    def inputs(self) -> tuple[Mapping[str, Any], ...]:
        """The inputs to ask for before pressing (a submit sends their values)."""
        if self.choice.kind not in SUBMITS:
            return ()
        if self.choice.action.get("associatedInputs", "auto") == "none":
            return ()
        return self.choice.inputs


@dataclass
class _Shown:
    content: Mapping[str, Any]
    lines: list[str]
    buttons: list[tuple[int, Choice]] = field(default_factory=list)


class TextChannel:
    def __init__(
        self,
        dialogue: Dialogue,
        person: Person,
        show: Callable[[str], None],
        style: Style | None = None,
    ) -> None:
        self.dialogue = dialogue
        self.person = person
        self.show = show
        self.style = style or Style()
        self._lock = threading.Lock()
        self._shown: dict[str, _Shown] = {}
        self._buttons: dict[int, tuple[str, Choice]] = {}
        self._numbers = itertools.count(1)
        self._ids = itertools.count(1)

    # --- the person's side (called by the terminal) ---------------------------------

    def lookup(self, typed: str) -> Chosen | str | None:
        """A typed number as the button it names; a reason if there is no such button
        (now); None when `typed` is not a number but something to say."""
        match = _NUMBER.fullmatch(typed.strip())
        if match is None:
            return None
        number = int(match.group(1))
        with self._lock:
            found = self._buttons.get(number)
        if found is None:
            return (
                f"There is no button [{number}] now (a card may have changed). Type one of "
                "the numbers shown in [brackets], or ask your question."
            )
        return Chosen(number, *found)

    async def welcome(self) -> None:
        self.render(self.dialogue.welcome(), None)

    async def say(self, text: str) -> None:
        try:
            replies = await self.dialogue.message(self.person, text)
        except Exception:
            log.exception("turn.failed", extra=logs.fields(channel="terminal"))
            replies = [Reply(text=SORRY)]
        self.render(replies, None)

    async def press(self, chosen: Chosen, values: Mapping[str, Any]) -> None:
        choice = chosen.choice
        if choice.kind in SUBMITS:
            try:
                data = choice.submitted(values)
                replies = await self.dialogue.action(self.person, data)
            except Exception:
                log.exception("turn.failed", extra=logs.fields(channel="terminal"))
                replies = [Reply(text=SORRY)]
            self.render(replies, chosen.card_id)
        elif choice.kind == "Action.ShowCard" and isinstance(choice.action.get("card"), Mapping):
            buttons: list[tuple[int, Choice]] = []
            text = render_card(
                choice.action["card"],
                style=self.style,
                numbered=self._numbering(buttons, []),
                parent_inputs=choice.inputs,
            )
            self._register(chosen.card_id, None, buttons, keep=True)
            self.show(text)
        elif choice.kind == "Action.ToggleVisibility":
            buttons = []
            shown = render_elements(
                choice.reveals, style=self.style, numbered=self._numbering(buttons, [])
            )
            self._register(chosen.card_id, None, buttons, keep=True)
            self.show(shown or "(nothing more to show)")
        elif choice.kind == "Action.OpenUrl":
            self.show(f"Open this in your browser: {choice.action.get('url', '')}")
        else:
            self.show(f"The terminal can't do “{choice.title}”.")

    # --- the bot's side ----------------------------------------------------------------

    def render(self, replies: Sequence[Reply], acted_on: str | None) -> None:
        """Show replies in the order a Bot Framework channel sends them."""
        for reply in replies:
            if reply.replace is not None:
                if acted_on is not None and acted_on in self._shown:
                    self._update(acted_on, reply.replace)
                else:
                    self._new(reply.replace)
            if reply.card is not None:
                self._new(reply.card)
            if reply.text:
                self.show(plain_text(reply.text, self.style))

    def delivered(self, activity: Mapping[str, Any], replaces: str | None = None) -> str:
        """A message sent into the terminal's conversation (proactively, e.g. by the
        escalation worker); `replaces` is the id of a card it updates. Returns its id."""
        cards = [
            a["content"]
            for a in activity.get("attachments") or []
            if isinstance(a, Mapping)
            and a.get("contentType") == CONTENT_TYPE
            and isinstance(a.get("content"), Mapping)
        ]
        ident = ""
        for content in cards:
            if replaces is not None and replaces in self._shown:
                self._update(replaces, content)
                ident = replaces
            else:
                ident = self._new(content)
        text = activity.get("text")
        if isinstance(text, str) and text.strip():
            self.show(plain_text(text, self.style))
        return ident or f"terminal-message-{next(self._ids)}"

    # --- cards and their buttons ------------------------------------------------------

    def _new(self, content: Mapping[str, Any]) -> str:
        card_id = f"terminal-card-{next(self._ids)}"
        buttons: list[tuple[int, Choice]] = []
        text = render_card(content, style=self.style, numbered=self._numbering(buttons, []))
        self._register(card_id, _Shown(content, text.split("\n"), buttons), buttons)
        self.show(text)
        return card_id

    def _update(self, card_id: str, content: Mapping[str, Any]) -> None:
        old = self._shown[card_id]
        buttons: list[tuple[int, Choice]] = []
        numbered = self._numbering(buttons, list(old.buttons))
        lines = render_card(content, style=self.style, numbered=numbered).split("\n")
        self._register(card_id, _Shown(content, lines, buttons), buttons)
        same = 0
        for before, after in zip(old.lines, lines, strict=False):
            if before != after:
                break
            same += 1
        if same == len(lines) == len(old.lines):
            return  # nothing the person can see changed
        tail = lines[same:] if same >= 2 else lines
        while tail and not tail[0].strip():
            tail = tail[1:]
        self.show("\n".join([self.style.paint(UPDATED, "dim"), *tail]))

    def _numbering(
        self, buttons: list[tuple[int, Choice]], reusable: list[tuple[int, Choice]]
    ) -> Callable[[Choice], int]:
        """Numbers for a card's buttons: a button the card had before keeps its number."""

        def number(choice: Choice) -> int:
            for index, (old_number, old) in enumerate(reusable):
                if old.action == choice.action:
                    del reusable[index]
                    buttons.append((old_number, choice))
                    return old_number
            with self._lock:
                fresh = next(self._numbers)
            buttons.append((fresh, choice))
            return fresh

        return number

    def _register(
        self,
        card_id: str,
        shown: _Shown | None,
        buttons: list[tuple[int, Choice]],
        *,
        keep: bool = False,
    ) -> None:
        """Make `buttons` pressable on `card_id`; unless `keep`, the card's other
        buttons (from its previous state) stop working."""
        with self._lock:
            if shown is not None:
                previous = self._shown.get(card_id)
                if previous is not None and not keep:
                    for number, _ in previous.buttons:
                        self._buttons.pop(number, None)
                self._shown[card_id] = shown
            elif card_id in self._shown:
                self._shown[card_id].buttons += buttons
            for number, choice in buttons:
                self._buttons[number] = (card_id, choice)
