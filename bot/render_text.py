"""Render Advice as plain text for the terminal (CLI and local chat)."""

from __future__ import annotations

import textwrap

from bot.conversation.labels import ROUTE_NAMES, VERDICTS
from bot.core import Advice, Knowledge


def render(advice: Advice, knowledge: Knowledge, width: int = 88) -> str:
    lines = [f"[{VERDICTS[advice.verdict].terminal}]  (confidence {advice.confidence:.2f})", ""]
    for paragraph in advice.answer.split("\n\n"):
        lines += [*textwrap.wrap(paragraph, width), ""]
    if advice.route.value:
        lines.append(f"Next step: ask {ROUTE_NAMES[advice.route.value]} before posting.")
        lines.append("")
    if advice.clauses:
        lines.append("Policy clauses:")
        for cid in advice.clauses:
            clause = knowledge.clauses[cid]
            lines += textwrap.wrap(
                f"{cid:<4} {clause.text}", width, initial_indent="  ", subsequent_indent="       "
            )
        lines.append("")
    if advice.alternatives:
        lines.append("Did you mean:")
        lines += [f"  - {alt.question}" for alt in advice.alternatives]
        lines.append("")
    lines.append(f"Policy version {advice.policy_version}")
    return "\n".join(lines)
