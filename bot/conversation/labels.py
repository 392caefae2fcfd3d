"""Every label the bot shows for a verdict or a route, kept once for every channel.

Text and a symbol carry a verdict's meaning on a card; the colour (an Adaptive Card
container style) only reinforces it. The terminal renders the same cards, so it shows
the same words (bot/channels/text).
"""

from __future__ import annotations

from typing import NamedTuple

from bot.core.types import Route, Verdict


class VerdictLabel(NamedTuple):
    badge: str  # on a card
    style: str  # Adaptive Card container style


VERDICTS: dict[Verdict, VerdictLabel] = {
    Verdict.OK: VerdictLabel("✔ OK to post", "good"),
    Verdict.CAUTION: VerdictLabel("⚠ Take care", "warning"),
    Verdict.NOT_OK: VerdictLabel("✖ Not OK", "attention"),
    Verdict.ASK: VerdictLabel("? Ask first", "accent"),
    Verdict.INFO: VerdictLabel("ℹ Policy info", "emphasis"),
    Verdict.OUT_OF_SCOPE: VerdictLabel("– Not my area", "emphasis"),
}
# Keyed by the route's value: tickets store routes as plain strings.
ROUTE_NAMES = {Route.LINE_MANAGER.value: "your line manager", Route.DCCT.value: "the DCCT"}
ROUTE_BUTTONS = {Route.LINE_MANAGER: "Ask my line manager", Route.DCCT: "Ask the DCCT"}

# Said about a button the bot cannot act on (forged, from an older card, already used).
STALE_BUTTON = (
    "Sorry, I couldn't act on that button: it may be from an older card. Please ask "
    "your question again, or type **my requests** to see your requests."
)


def verdict_badge(verdict: str) -> str:
    """The card label of a verdict stored as a string (a ticket's), else the string."""
    try:
        return VERDICTS[Verdict(verdict)].badge
    except ValueError:
        return verdict
