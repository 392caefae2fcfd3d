"""The values the advice engine works with. Plain frozen dataclasses: no I/O, no framework."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

# The longest message the adviser reads; edges refuse longer input with a clear reply and
# BOT_MAX_MESSAGE_CHARS may lower it (settings default to this, so the number is kept once).
MAX_CHARS = 4000


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
class PolicyChange:
    """A change of the policy's wording (knowledge/policy/changes.toml): until it is
    reviewed, answers citing its clauses say so."""

    version: str  # the policy version the change produced, "sha256:…"
    changed_on: date
    clauses: tuple[str, ...]  # the clauses whose wording changed
    reviewed_on: date | None = None

    @property
    def under_review(self) -> bool:
        return self.reviewed_on is None


@dataclass(frozen=True)
class Knowledge:
    clauses: dict[str, Clause]
    entries: tuple[Entry, ...]
    policy_version: str  # "sha256:…": in data and logs, never shown to staff
    policy_title: str
    policy_label: str = ""  # the edition in plain words, for the foot of an answer
    changes: tuple[PolicyChange, ...] = ()

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

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Reason:
        return cls(*(str(raw[k]) for k in ("clause", "quote", "problem", "fix", "source")))


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
    # "greeting", "thanks", …: a friendly word, not advice (the verdict stays out_of_scope).
    small_talk: str | None = None
    # Plain sentences every edge shows with the answer: a DCCT ruling it came from, a
    # policy change under review.
    notes: tuple[str, ...] = field(default=())
    ruling: str | None = None  # the DCCT ruling the answer came from, if any

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
            "small_talk": self.small_talk,
            "notes": list(self.notes),
            "ruling": self.ruling,
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Advice:
        """The advice `to_json` wrote (e.g. sealed into a card). Raises KeyError, TypeError
        or ValueError on anything else."""
        return cls(
            verdict=Verdict(raw["verdict"]),
            clauses=tuple(str(c) for c in raw["clauses"]),
            entry=None if raw["entry"] is None else str(raw["entry"]),
            confidence=float(raw["confidence"]),
            route=Route(raw["route"]),
            answer=str(raw["answer"]),
            policy_version=str(raw["policy_version"]),
            band=Band(raw["band"]),
            alternatives=tuple(
                Alternative(str(a["entry"]), str(a["question"]), Verdict(a["verdict"]))
                for a in raw["alternatives"]
            ),
            signals=tuple(str(s) for s in raw["signals"]),
            reasons=tuple(Reason.from_json(r) for r in raw["reasons"]),
            small_talk=None if raw.get("small_talk") is None else str(raw["small_talk"]),
            notes=tuple(str(n) for n in raw.get("notes", ())),
            ruling=None if raw.get("ruling") is None else str(raw["ruling"]),
        )
