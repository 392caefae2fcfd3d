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
    note: str  # what the clause means for any post, one plain sentence
    problem: str = ""  # completes "The problem: '<words>' — <problem>"; risk clauses only
    fix: str = ""


NOTE_FIELDS = {"note", "problem", "fix"}


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
            problems.append(f"{where}: must be a table with 'note' (and 'problem', 'fix')")
            continue
        if unknown := sorted(set(raw) - NOTE_FIELDS):
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        fields = {name: raw.get(name, "") for name in NOTE_FIELDS}
        wrong = sorted(name for name, value in fields.items() if not isinstance(value, str))
        if wrong:
            problems.append(f"{where}: field(s) {', '.join(wrong)} must be strings")
            continue
        if not fields["note"].strip():
            problems.append(
                f"{where}: field 'note' must say in a sentence what the clause means for a post"
            )
            continue
        if CLAUSE_MENTION.search(fields["note"]):
            problems.append(f"{where}: field 'note' must not cite clause ids (they are added)")
        if fields["fix"].strip() and not fields["problem"].strip():
            problems.append(f"{where}: field 'fix' needs a 'problem' to fix")
        notes[cid] = ClauseNote(
            fields["note"].strip(), fields["problem"].strip(), fields["fix"].strip()
        )
    problems += [
        f"{path}: clause {cid} needs a [clause.{cid}] entry with a 'note'"
        for cid in sorted(clause_ids - set(notes))
    ]
    problems += [
        f"{path} [clause.{cid}]: field 'problem' is required (clause {cid} can make an "
        "answer stricter)"
        for cid in MUST_EXPLAIN
        if cid in notes and not notes[cid].problem
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
NOTHING_FOUND = "I can't see anything in this that the policy warns against."
# Said before the notes of the clauses that no other paragraph explains.
NOTES_LEAD = {
    Verdict.OK: "What the policy says:",
    Verdict.INFO: "What the policy says:",
}
NOTES_LEAD_OTHERWISE = "The policy also says:"
WHO = {
    "line_manager": "your line manager",
    "dcct": "the DCCT (Digital Communications and Content Team)",
}
# Words that show a paragraph already sends the person to that route.
ROUTE_WORDS = {"line_manager": "line manager", "dcct": "DCCT"}
ROUTE_CLAUSE = {"line_manager": "F1", "dcct": "F2"}


def reason_lines(reasons: Sequence[Reason]) -> list[str]:
    """One line per quoted passage: two findings in the same words share it, so the
    person's words are not quoted twice."""
    grouped: dict[str, list[Reason]] = {}
    for reason in reasons:
        grouped.setdefault(reason.quote, []).append(reason)
    lines = []
    for quote, found in grouped.items():
        problems = "; and ".join(f"{r.problem} ({r.clause})" for r in found)
        fixes = " ".join(dict.fromkeys(r.fix for r in found if r.fix))
        line = f"The problem: “{quote}” — {problems}."
        lines.append(f"{line} {fixes}" if fixes else line)
    return lines


def cite(paragraph: str, clauses: Sequence[str]) -> str:
    """`paragraph` with the ids of the clauses it explains, e.g. "… settings. (D7, D6)"."""
    missing = [c for c in clauses if c not in mentioned_clauses(paragraph)]
    return f"{paragraph} ({', '.join(missing)})" if missing else paragraph


def compose(
    verdict: Verdict,
    reasons: Sequence[Reason],
    entry: tuple[str, Sequence[str]] | None,
    explanations: Sequence[str],
    route: str,
    clauses: Sequence[str],
    notes: dict[str, ClauseNote],
) -> str:
    """The answer text, from what was found: a lead, the reasons, the FAQ's answer when
    one fits (`entry`: its answer and the clauses it explains), the signals'
    explanations, the advice to ask first; then a note on each listed clause that
    nothing above explains. So every clause in `clauses` is named in the text, and no
    paragraph is said twice."""
    lines = reason_lines(reasons)
    parts = [LEADS[verdict]] if verdict in LEADS else []
    parts += lines
    asking = ROUTE_CLAUSE.get(route, "F1") if verdict is Verdict.ASK else None
    words = ROUTE_WORDS.get(route, "line manager")
    if entry is not None:
        answer, explained = entry
        cited = [c for c in explained if c in clauses]
        if asking and words in answer:  # the FAQ's answer already says whom to ask
            cited.append(asking)
            asking = None
        parts.append(cite(answer, list(dict.fromkeys(cited))))
    elif verdict is Verdict.OK:
        parts.append(NOTHING_FOUND)
    parts += explanations
    if asking and not any(words in line for line in lines):
        who = WHO.get(route, WHO["line_manager"])
        parts.append(
            f"The policy asks you to seek early advice when in doubt: ask {who} before "
            f"posting ({asking})."
        )
    # A reason that already sends them there leaves the clause to its short note below.
    named = set(mentioned_clauses(" ".join(parts)))
    unexplained = [c for c in clauses if c not in named and c in notes]
    if unexplained:
        lead = NOTES_LEAD.get(verdict, NOTES_LEAD_OTHERWISE)
        sentences = " ".join(f"{notes[c].note.rstrip('.')} ({c})." for c in unexplained)
        parts.append(f"{lead} {sentences}")
    return "\n\n".join(dict.fromkeys(p for p in parts if p))


def mentioned_clauses(text: str) -> list[str]:
    return list(dict.fromkeys(CLAUSE_MENTION.findall(text)))
