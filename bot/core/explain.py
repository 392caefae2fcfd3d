"""Say why: the reasons behind an answer, and the answer text built from what was found.

A reason ties a clause to the words of the message that raised it ("The problem: 'the
back gate is open till 7' — a security detail of the building (D9)") and, where one
exists, to what would make the post acceptable. Reasons come from the risk signals
(the words they matched) and from the judge (the sentence it reads as most at risk).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.knowledge import KnowledgeError
from bot.core.types import Reason, Verdict

MAX_QUOTE = 160
CLAUSE_MENTION = re.compile(r"\b([SDF]\d{1,2})\b")
# Clauses whose reasons make an answer stricter: each needs an explanation on file.
MUST_EXPLAIN = ("D3", "D4", "D7", "D8", "D9", "D11", "D12", "D13", "D15", "D16")


@dataclass(frozen=True)
class ClauseNote:
    problem: str
    fix: str


def parse_reasons(data: Any, path: str, clause_ids: set[str]) -> dict[str, ClauseNote]:
    problems: list[str] = []
    table = data.get("clause") if isinstance(data, dict) else None
    if not isinstance(table, dict):
        raise KnowledgeError([f"{path}: expected [clause.<id>] tables"])
    notes: dict[str, ClauseNote] = {}
    for cid, raw in table.items():
        where = f"{path} [clause.{cid}]"
        if cid not in clause_ids:
            problems.append(f"{where}: unknown clause id '{cid}'")
            continue
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a table with 'problem' (and optional 'fix')")
            continue
        if unknown := sorted(set(raw) - {"problem", "fix"}):
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        problem, fix = raw.get("problem"), raw.get("fix", "")
        if not isinstance(problem, str) or not problem.strip():
            problems.append(f"{where}: field 'problem' must be a non-empty string")
            continue
        if not isinstance(fix, str):
            problems.append(f"{where}: field 'fix' must be a string")
            continue
        notes[cid] = ClauseNote(problem.strip(), fix.strip())
    problems += [
        f"{path}: clause {cid} needs a [clause.{cid}] entry (it can make an answer stricter)"
        for cid in MUST_EXPLAIN
        if cid not in notes
    ]
    if problems:
        raise KnowledgeError(problems)
    return notes


def load_reasons(path: Path, clause_ids: set[str]) -> dict[str, ClauseNote]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError([f"{path}: cannot load the clause reasons: {exc}"]) from exc
    return parse_reasons(data, str(path), clause_ids)


def shorten(quote: str, limit: int = MAX_QUOTE) -> str:
    quote = " ".join(quote.split()).strip(" \"'“”‘’")
    if len(quote) <= limit:
        return quote
    cut = quote[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


LEADS = {
    Verdict.NOT_OK: "Don't post this as it stands.",
    Verdict.CAUTION: "You can probably post this, but take care first.",
    Verdict.ASK: "Check before you post this.",
    Verdict.OK: "This looks fine to post.",
}
GENERIC = {
    Verdict.OK: (
        "I can't see anything in this that the policy warns against: it reads as a personal "
        "post, and what you do in your personal life is generally your own business. It "
        "will be public and hard to erase, whatever your settings."
    ),
    Verdict.INFO: (
        "The policy applies to all social media, on or off duty and on any device. If you "
        "are in any doubt about a particular post, ask your line manager; the DCCT in the "
        "Parliament Communications Office can advise too."
    ),
}
WHO = {
    "line_manager": "your line manager",
    "dcct": "the DCCT (Digital Communications and Content Team)",
}


def reason_line(reason: Reason) -> str:
    line = f"The problem: “{reason.quote}” — {reason.problem} ({reason.clause})."
    return f"{line} {reason.fix}" if reason.fix else line


def compose(
    verdict: Verdict,
    reasons: Sequence[Reason],
    entry_answer: str | None,
    explanations: Sequence[str],
    route: str,
) -> str:
    """The answer text: a lead, the reasons, the FAQ's answer when one fits, then only
    the explanations not already said. Each paragraph appears once."""
    parts: list[str] = []
    if verdict in LEADS:
        parts.append(LEADS[verdict])
    parts += [reason_line(r) for r in reasons]
    if entry_answer:
        parts.append(entry_answer)
    elif verdict in GENERIC:
        parts.append(GENERIC[verdict])
    parts += explanations
    if verdict is Verdict.ASK:
        who = WHO.get(route, WHO["line_manager"])
        parts.append(
            f"The policy asks you to seek early advice when in doubt: ask {who} before posting."
        )
    return "\n\n".join(dict.fromkeys(p for p in parts if p))


def mentioned_clauses(text: str) -> list[str]:
    return list(dict.fromkeys(CLAUSE_MENTION.findall(text)))
