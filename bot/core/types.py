"""The values the advice engine works with. Plain frozen dataclasses: no I/O, no framework."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Verdict(StrEnum):
    OK = "ok"
    CAUTION = "caution"
    NOT_OK = "not_ok"
    INFO = "info"
    ASK = "ask"
    OUT_OF_SCOPE = "out_of_scope"


class Route(StrEnum):
    NONE = ""
    LINE_MANAGER = "line_manager"
    DCCT = "dcct"


class Band(StrEnum):
    """How sure the adviser is of its verdict; below high it offers "did you mean" questions."""

    HIGH = "high"
    MIDDLE = "middle"
    LOW = "low"


@dataclass(frozen=True)
class Clause:
    id: str
    section: str
    text: str


@dataclass(frozen=True)
class Entry:
    """One curated FAQ entry (see knowledge/faq/*.toml)."""

    id: str
    questions: tuple[str, ...]
    verdict: Verdict
    answer: str
    clauses: tuple[str, ...]
    route: Route = Route.NONE
    tags: tuple[str, ...] = ()
    source: str = ""


@dataclass(frozen=True)
class Knowledge:
    clauses: dict[str, Clause]
    entries: tuple[Entry, ...]
    policy_version: str
    policy_title: str

    def entry(self, entry_id: str) -> Entry | None:
        return next((e for e in self.entries if e.id == entry_id), None)


@dataclass(frozen=True)
class Alternative:
    entry: str
    question: str
    verdict: Verdict


@dataclass(frozen=True)
class Reason:
    """Why a clause was relied on: the words of the message that raised it, and a fix."""

    clause: str
    quote: str
    problem: str
    fix: str = ""
    source: str = ""  # the risk signal's name, or "judge" for the learned model

    def to_json(self) -> dict[str, str]:
        return {
            "clause": self.clause,
            "quote": self.quote,
            "problem": self.problem,
            "fix": self.fix,
            "source": self.source,
        }


@dataclass(frozen=True)
class Advice:
    """What the adviser says about one message. Edges render it; they never recompute it."""

    verdict: Verdict
    clauses: tuple[str, ...]
    entry: str | None
    confidence: float
    route: Route
    answer: str
    policy_version: str
    band: Band = Band.HIGH
    alternatives: tuple[Alternative, ...] = ()
    signals: tuple[str, ...] = field(default=())
    reasons: tuple[Reason, ...] = field(default=())

    def to_json(self) -> dict[str, object]:
        return {
            "verdict": self.verdict.value,
            "clauses": list(self.clauses),
            "entry": self.entry,
            "confidence": round(self.confidence, 3),
            "route": self.route.value,
            "answer": self.answer,
            "band": self.band.value,
            "alternatives": [
                {"entry": a.entry, "question": a.question, "verdict": a.verdict.value}
                for a in self.alternatives
            ],
            "signals": list(self.signals),
            "reasons": [r.to_json() for r in self.reasons],
            "policy_version": self.policy_version,
        }
