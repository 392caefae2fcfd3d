"""DCCT rulings: a case the policy's owners decided, applied to the next case like it.

The judge is a trained artefact and is never retrained at run time. A ruling works as a
nearest-neighbour override instead: a message whose sentence embedding is close enough
to a ruling's question (cosine at least `MATCH`) gets the ruling's verdict and clauses,
and the ruling's answer text when it has one. Risk signals still make it stricter.

Rulings come from two places, merged outside the core: the approved proposals in the
database (live, polled by every replica) and the exported file
knowledge/rulings/rulings.jsonl (reviewed and committed, so they survive a rebuild).
Each line of that file is a corpus example (see examples.py) plus three fields of its
own: `answer`, `ruled_on` and `policy_version`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.examples import read_jsonl, validate_example
from bot.core.judge import Embedder, Matrix
from bot.core.knowledge import MAX_ANSWER_CHARS
from bot.core.policy import VERSION, long_date
from bot.core.types import Route, Verdict

RULINGS_DIR = "rulings"
RULINGS_FILE = "rulings.jsonl"
RULING_ID = re.compile(r"^ruling-\d{4,}$")
RULING_FIELDS = ("answer", "ruled_on", "policy_version")
VERDICTS = (Verdict.OK, Verdict.CAUTION, Verdict.NOT_OK, Verdict.ASK)
KIND = "borderline"  # an escalated question is one the adviser was unsure of
# Measured by `bench/calibrate_rulings.py` on the example corpus (its docstring has the
# table): no pair of examples above 0.82 is a not-OK case next to an OK one.
MATCH = 0.84
# A ruling gentler than the adviser's own answer needs more: the corpus's closest pairs
# are minimal pairs ("sad news about X" / "not sad about X") whose verdicts differ.
MATCH_GENTLER = 0.88


@dataclass(frozen=True)
class Ruling:
    id: str  # ruling-0007: the proposal's number
    question: str  # as the DCCT edited it: anonymised
    verdict: Verdict
    clauses: tuple[str, ...]
    route: Route
    answer: str  # "" when the DCCT gave none: the closest FAQ answer is used
    ruled_on: date
    policy_version: str

    def note(self) -> str:
        return f"The DCCT ruled on a case like this on {long_date(self.ruled_on)}."

    def to_json(self) -> dict[str, object]:
        """One line of rulings.jsonl: a corpus example, then the ruling's own fields."""
        return {
            "id": self.id,
            "text": self.question,
            "verdict": self.verdict.value,
            "alt": [],
            "clauses": list(self.clauses),
            "route": self.route.value,
            "kind": KIND,
            "family": self.id,
            "split": "train",
            "answer": self.answer,
            "ruled_on": self.ruled_on.isoformat(),
            "policy_version": self.policy_version,
        }


def ruling_clauses(verdict: Verdict, route: Route, clauses: Iterable[str]) -> tuple[str, ...]:
    """The clauses as an example must have them: "ask first" names whom (F1 or F2)."""
    cited = list(dict.fromkeys(clauses))
    if verdict is Verdict.ASK and not {"F1", "F2"} & set(cited):
        cited.append("F2" if route is Route.DCCT else "F1")
    return tuple(cited)


def validate_ruling(raw: Any, where: str, clause_ids: set[str]) -> tuple[Ruling | None, list[str]]:
    """Check one ruling like every other example, then its own fields."""
    if not isinstance(raw, dict):
        return None, [f"{where}: a line must be a JSON object"]
    label = f"{where} '{raw.get('id', '?')}'"
    example_part = {k: v for k, v in raw.items() if k not in RULING_FIELDS}
    example, problems = validate_example(example_part, where, clause_ids)
    problems += [f"{label}: field '{k}' is missing" for k in RULING_FIELDS if k not in raw]
    ident = raw.get("id")
    if not isinstance(ident, str) or not RULING_ID.match(ident):
        problems.append(f"{label}: field 'id' must look like 'ruling-0001'")
    if example is not None and example.verdict not in VERDICTS:
        problems.append(f"{label}: field 'verdict' must be ok, caution, not_ok or ask")
    if example is not None and example.alt:
        problems.append(f"{label}: field 'alt' must be empty: a ruling gives one verdict")
    answer = raw.get("answer", "")
    if not isinstance(answer, str):
        problems.append(f"{label}: field 'answer' must be a string (empty for none)")
        answer = ""
    elif len(answer) > MAX_ANSWER_CHARS:
        problems.append(f"{label}: field 'answer' is over {MAX_ANSWER_CHARS} characters")
    ruled_on: date | None = None
    try:
        ruled_on = date.fromisoformat(str(raw.get("ruled_on")))
    except ValueError:
        problems.append(f"{label}: field 'ruled_on' must be a date like 2026-03-03")
    version = raw.get("policy_version")
    if not isinstance(version, str) or not VERSION.match(version):
        problems.append(f"{label}: field 'policy_version' must look like 'sha256:0123456789ab'")
    if problems or example is None or ruled_on is None:
        return None, problems
    return (
        Ruling(
            id=example.id,
            question=example.text.strip(),
            verdict=example.verdict,
            clauses=example.clauses,
            route=example.route,
            answer=answer.strip(),
            ruled_on=ruled_on,
            policy_version=str(version),
        ),
        [],
    )


def rulings_path(directory: Path) -> Path:
    return directory / RULINGS_DIR / RULINGS_FILE


def load_rulings(directory: Path, clause_ids: set[str]) -> tuple[list[Ruling], list[str]]:
    """The exported rulings (none when the file does not exist) and every problem."""
    path = rulings_path(directory)
    if not path.is_file():
        return [], []
    entries, problems = read_jsonl(
        path, lambda raw, where: validate_ruling(raw, where, clause_ids), seen={}
    )
    rulings = [ruling for _, ruling in entries]
    return rulings, problems


def render_rulings(rulings: Sequence[Ruling]) -> str:
    ordered = sorted(rulings, key=lambda r: r.id)
    return "".join(json.dumps(r.to_json(), ensure_ascii=False) + "\n" for r in ordered)


def merge_rulings(
    exported: Iterable[Ruling], approved: Iterable[Ruling], removed: Iterable[str]
) -> list[Ruling]:
    """The rulings in force: the database's approved ones, and the exported ones it does
    not know of; a ruling rejected or withdrawn in the database is gone from both."""
    gone = set(removed)
    live = {r.id: r for r in exported if r.id not in gone}
    live.update({r.id: r for r in approved if r.id not in gone})
    return sorted(live.values(), key=lambda r: r.id)


class RulingBook:
    """The rulings in force and their question embeddings. Immutable: swapped whole."""

    def __init__(self, rulings: Sequence[Ruling], matrix: Matrix) -> None:
        self.rulings = tuple(rulings)
        self.matrix = matrix

    @classmethod
    def empty(cls) -> RulingBook:
        return cls((), np.zeros((0, 0), dtype=np.float32))

    @classmethod
    def build(
        cls, rulings: Sequence[Ruling], embedder: Embedder, previous: RulingBook | None = None
    ) -> RulingBook:
        """Embed the questions; a question the previous book had is not embedded again."""
        if not rulings:
            return cls.empty()
        known: dict[str, Any] = {}
        if previous is not None:
            known = {r.question: previous.matrix[i] for i, r in enumerate(previous.rulings)}
        missing = [q for q in dict.fromkeys(r.question for r in rulings) if q not in known]
        if missing:
            known.update(zip(missing, embedder.encode(missing), strict=True))
        matrix = np.stack([known[r.question] for r in rulings]).astype(np.float32)
        return cls(rulings, matrix)

    def __len__(self) -> int:
        return len(self.rulings)

    def nearest(self, embedding: Any) -> tuple[Ruling, float] | None:
        if not self.rulings:
            return None
        scores = self.matrix @ embedding
        best = int(np.argmax(scores))
        return self.rulings[best], float(scores[best])
