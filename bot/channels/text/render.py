"""Adaptive Cards as terminal text, rendered from the card's own elements.

Generic on purpose: it knows the Adaptive Card element types (TextBlock, RichTextBlock,
Container, ColumnSet, FactSet, Table, Image, ActionSet, Input.*) and actions
(Action.Submit/Execute/ShowCard/ToggleVisibility/OpenUrl), never which card it is, so
whatever the conversation puts on a card shows in the terminal too.

Every action becomes a `Choice`. `numbered` asks the caller for the number to show
(the chat types it to press the button); without it the card is printed for reading
(`ask`, `poke`): buttons are listed by title and hidden parts are shown.
"""

from __future__ import annotations

import os
import re
import shutil
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

Element = Mapping[str, Any]

_BOLD_ON, _BOLD_OFF = "\x01", "\x02"  # markers while wrapping; ANSI codes (or nothing) after
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>~<])")
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])[*_](\S(?:.*?\S)?)[*_](?![\w*])")
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")
_ANSI = {
    "bold": "\x1b[1m",
    "dim": "\x1b[2m",
    "good": "\x1b[32m",
    "warning": "\x1b[33m",
    "attention": "\x1b[31m",
    "accent": "\x1b[36m",
    "reset": "\x1b[0m",
}
# Container styles that carry meaning (a verdict, an outcome): drawn with a gutter.
_STYLED = frozenset({"good", "warning", "attention", "accent", "emphasis"})
_SPACED = frozenset({"medium", "large", "extralarge", "padding"})


def markdown(value: str) -> str:
    """TextBlock's Markdown subset as plain text: **strong** kept as a marker, emphasis
    and escapes dropped, links as "text (url)". Escaped characters stay literal."""
    kept: list[str] = []

    def hold(match: re.Match[str]) -> str:
        kept.append(match.group(1))
        return f"\ue000{len(kept) - 1}\ue001"

    value = _ESCAPED.sub(hold, value)
    value = _STRONG.sub(lambda m: f"{_BOLD_ON}{m.group(1)}{_BOLD_OFF}", value)
    value = _EMPHASIS.sub(r"\1", value)
    value = _LINK.sub(r"\1 (\2)", value)
    return re.sub("\ue000(\\d+)\ue001", lambda m: kept[int(m.group(1))], value)


@dataclass(frozen=True)
class Choice:
    """A button on a card: what it does, and the inputs a submit sends with it."""

    title: str
    action: Element
    inputs: tuple[Element, ...] = ()  # Input.* elements whose values a submit carries
    reveals: tuple[Element, ...] = ()  # the elements a ToggleVisibility shows

    @property
    def kind(self) -> str:
        return str(self.action.get("type", ""))

    def submitted(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The activity value a client sends for this submit, with the inputs' values."""
        data = self.action.get("data")
        merged: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
        verb = self.action.get("verb")
        if self.kind == "Action.Execute" and isinstance(verb, str):
            merged.setdefault("action", verb)
        if self.action.get("associatedInputs", "auto") != "none":
            merged.update(values)
        return merged


@dataclass
class Style:
    width: int = 88
    color: bool = False

    @classmethod
    def for_stream(cls, out: TextIO) -> Style:
        """The terminal's width (within reason); colour only on a terminal that wants it."""
        width = shutil.get_terminal_size(fallback=(89, 24)).columns - 1
        color = out.isatty() and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        return cls(width=max(40, min(width, 100)), color=color)

    def paint(self, text: str, *names: str) -> str:
        if not self.color or not names or not text:
            return text
        return "".join(_ANSI[n] for n in names if n in _ANSI) + text + _ANSI["reset"]

    def finish(self, text: str) -> str:
        """Turn the bold markers into ANSI (or drop them) once the text is wrapped."""
        if not self.color:
            return text.replace(_BOLD_ON, "").replace(_BOLD_OFF, "")
        return text.replace(_BOLD_ON, _ANSI["bold"]).replace(_BOLD_OFF, _ANSI["reset"])


Numbering = Callable[[Choice], int]


@dataclass
class _Render:
    style: Style
    numbered: Numbering | None
    inputs: tuple[Element, ...] = ()
    by_id: dict[str, Element] = field(default_factory=dict)

    @property
    def interactive(self) -> bool:
        return self.numbered is not None

    # --- elements --------------------------------------------------------------------

    def elements(self, items: Sequence[Any], indent: str, top: bool) -> list[str]:
        lines: list[str] = []
        for item in items:
            if not isinstance(item, Mapping):
                continue
            if item.get("isVisible") is False and self.interactive:
                continue  # shown by its ToggleVisibility button
            block = self.element(item, indent)
            if not block:
                continue
            spacing = str(item.get("spacing", "default")).lower()
            gap = item.get("separator") is True or spacing in _SPACED
            if top:
                gap = spacing not in ("none", "small") and item.get("type") != "ActionSet"
            if lines and gap:
                lines.append(indent.rstrip())
            lines += block
        return lines

    def element(self, item: Element, indent: str) -> list[str]:
        kind = item.get("type")
        lines: list[str]
        if kind == "TextBlock":
            lines = self.text(str(item.get("text", "")), indent, self._text_style(item))
        elif kind == "RichTextBlock":
            runs = item.get("inlines") or []
            said = "".join(
                str(r.get("text", "")) if isinstance(r, Mapping) else str(r) for r in runs
            )
            lines = self.text(said, indent, ())
        elif kind in ("Container", "Column"):
            lines = self.container(item, indent)
        elif kind == "ColumnSet":
            lines = []
            for column in item.get("columns") or []:
                if isinstance(column, Mapping):
                    lines += self.container(column, indent)
        elif kind == "FactSet":
            lines = self.facts(item.get("facts") or [], indent)
        elif kind == "Table":
            lines = self.table(item, indent)
        elif kind == "Image":
            alt = item.get("altText")
            lines = self.text(f"[image: {alt}]", indent, ("dim",)) if alt else []
        elif kind == "ActionSet":
            lines = self.choices(item.get("actions") or [], indent)
        elif isinstance(kind, str) and kind.startswith("Input."):
            lines = self.input_field(item, indent)
        else:
            fallback = item.get("fallback")
            lines = self.element(fallback, indent) if isinstance(fallback, Mapping) else []
        select = item.get("selectAction")
        if isinstance(select, Mapping) and kind != "Column":
            lines += self.choices([select], indent)
        return lines

    def container(self, item: Element, indent: str) -> list[str]:
        style = str(item.get("style") or "").lower()
        inner = indent
        if style in _STYLED:
            inner = indent + self.style.paint("┃", style if style != "emphasis" else "dim") + " "
        lines = self.elements(item.get("items") or [], inner, top=False)
        select = item.get("selectAction")
        if item.get("type") == "Column" and isinstance(select, Mapping):
            lines += self.choices([select], indent)
        return lines

    def text(self, value: str, indent: str, paint: Sequence[str]) -> list[str]:
        width = max(20, self.style.width - _visible(indent))
        lines: list[str] = []
        for paragraph in markdown(value).split("\n"):
            wrapped = textwrap.wrap(paragraph, width) or [""]
            lines += [indent + self.style.paint(self.style.finish(w), *paint) for w in wrapped]
        return lines

    @staticmethod
    def _text_style(item: Element) -> tuple[str, ...]:
        names: list[str] = []
        if item.get("weight") == "Bolder" or item.get("size") in ("Large", "ExtraLarge"):
            names.append("bold")
        if item.get("isSubtle") is True:
            names.append("dim")
        color = str(item.get("color") or "").lower()
        if color in _ANSI:
            names.append(color)
        return tuple(names)

    def facts(self, facts: Sequence[Any], indent: str) -> list[str]:
        pairs = [
            (markdown(str(f.get("title", ""))), str(f.get("value", "")))
            for f in facts
            if isinstance(f, Mapping)
        ]
        width = max((len(t) for t, _ in pairs), default=0)
        lines: list[str] = []
        for title, value in pairs:
            label = self.style.finish(f"{title}:".ljust(width + 2))
            lines += self.text(value, indent + label, ()) if value else [indent + label]
        return lines

    def table(self, item: Element, indent: str) -> list[str]:
        lines: list[str] = []
        for row in item.get("rows") or []:
            cells = row.get("cells") if isinstance(row, Mapping) else None
            said = []
            for cell in cells or []:
                inner = self.elements((cell or {}).get("items") or [], "", top=False)
                said.append(" ".join(line.strip() for line in inner))
            lines += self.text(" | ".join(said), indent, ())
        return lines

    def input_field(self, item: Element, indent: str) -> list[str]:
        kind = item.get("type")
        label = input_label(item)
        value = str(item.get("value") or "")
        if kind == "Input.Toggle":
            on = value == str(item.get("valueOn", "true"))
            return self.text(f"{'☑' if on else '☐'} {label}", indent, ())
        if kind == "Input.ChoiceSet":
            titles = [str(c.get("title", "")) for c in item.get("choices") or []]
            return self.text(f"✎ {label}: {' / '.join(titles)}", indent, ())
        if not value:
            return self.text(f"✎ {label}", indent, ("dim",))
        return [
            *self.text(f"✎ {label}:", indent, ("dim",)),
            *self.text(value, indent + "  ", ()),
        ]

    # --- actions ---------------------------------------------------------------------

    def choices(self, actions: Sequence[Any], indent: str) -> list[str]:
        labels = []
        for action in actions:
            if not isinstance(action, Mapping):
                continue
            choice = self.choice(action)
            if choice.kind == "Action.ToggleVisibility" and self.numbered is None:
                continue  # printed for reading: what it would show is shown already
            title = markdown(choice.title)
            if self.numbered is None:
                labels.append(self.style.finish(f"[{title}]"))
            else:
                number = self.numbered(choice)
                labels.append(self.style.paint(f"[{number}]", "bold") + " " + title)
            if choice.kind == "Action.OpenUrl" and action.get("url"):
                labels[-1] += f" ({action['url']})"
        if not labels:
            return []
        width = max(20, self.style.width - _visible(indent))
        lines: list[str] = []
        line = ""
        for label in labels:
            if line and _visible(line) + 3 + _visible(label) > width:
                lines.append(indent + line)
                line = ""
            line = f"{line}   {label}" if line else label
        return [*lines, indent + line]

    def choice(self, action: Element) -> Choice:
        title = str(action.get("title") or action.get("tooltip") or "Select")
        reveals: tuple[Element, ...] = ()
        if action.get("type") == "Action.ToggleVisibility":
            targets = [
                t.get("elementId") if isinstance(t, Mapping) else t
                for t in action.get("targetElements") or []
            ]
            found = [self.by_id.get(t) if isinstance(t, str) else None for t in targets]
            reveals = tuple(e for e in found if e is not None)
        return Choice(title, action, self.inputs, reveals)


def render_card(
    content: Element,
    *,
    style: Style | None = None,
    numbered: Numbering | None = None,
    parent_inputs: Sequence[Element] = (),
) -> str:
    """The card as text. With `numbered`, every action gets the number it returns."""
    body = content.get("body") or []
    own = [e for e in walk(body) if str(e.get("type", "")).startswith("Input.")]
    inputs = (*parent_inputs, *own)
    ids = {str(e["id"]): e for e in walk(body) if isinstance(e.get("id"), str)}
    render = _Render(style or Style(), numbered, tuple(inputs), ids)
    lines = render.elements(body, "", top=True)
    actions = render.choices(content.get("actions") or [], "")
    if actions:
        lines += ["", *actions] if lines else actions
    return "\n".join(lines)


def render_elements(
    elements: Sequence[Element], *, style: Style | None = None, numbered: Numbering | None = None
) -> str:
    """Elements shown on their own (what a ToggleVisibility button reveals)."""
    shown = [{**e, "isVisible": True} for e in elements]
    return "\n".join(_Render(style or Style(), numbered).elements(shown, "", top=True))


def walk(items: Sequence[Any]) -> Iterator[Element]:
    """Every element inside `items`, depth first (not into ShowCard cards: their own)."""
    for item in items:
        if not isinstance(item, Mapping):
            continue
        yield item
        for key in ("items", "columns"):
            children = item.get(key)
            if isinstance(children, list):
                yield from walk(children)
        for row in item.get("rows") or []:
            for cell in (row.get("cells") if isinstance(row, Mapping) else None) or []:
                if isinstance(cell, Mapping):
                    yield from walk(cell.get("items") or [])


def input_label(item: Element) -> str:
    for key in ("label", "title", "placeholder", "id"):
        if item.get(key):
            return markdown(str(item[key])).replace(_BOLD_ON, "").replace(_BOLD_OFF, "")
    return "Value"


def plain_text(value: str, style: Style | None = None) -> str:
    """A text reply (which may use the same Markdown subset) as terminal text."""
    style = style or Style()
    return "\n".join(_Render(style, None).text(value, "", ()))


_ANSI_CODES = re.compile(r"\x1b\[[0-9;]*m")


def _visible(text: str) -> int:
    return len(_ANSI_CODES.sub("", text))
