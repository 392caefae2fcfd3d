"""Turn one message into Advice: match the FAQ, read the risk signals, decide, compose.

The rules here are the safety net around the matcher: a fuzzy match can be wrong, so a
risk signal always outranks an 'ok', and a weak match never guesses: it asks.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge import default_knowledge_dir, load_knowledge
from bot.core.matcher import Match, Matcher
from bot.core.normalise import Normaliser, fold
from bot.core.signals import Hit, Lexicon, Severity, load_lexicon, scan
from bot.core.types import Advice, Alternative, Band, Entry, Knowledge, Route, Verdict

MAX_CHARS = 4000  # edges reject longer input; the core never scans more than this
HIGH = 0.62
MIDDLE = 0.45
MAX_ALTERNATIVES = 3


@dataclass(frozen=True)
class Thresholds:
    high: float = HIGH
    middle: float = MIDDLE


class Adviser:
    """Pure and thread-safe after construction: build once, call `advise` from anywhere."""

    def __init__(
        self, knowledge: Knowledge, lexicon: Lexicon, thresholds: Thresholds | None = None
    ) -> None:
        self.knowledge = knowledge
        self.lexicon = lexicon
        self.thresholds = thresholds or Thresholds()
        self.normaliser = Normaliser(lexicon.replacements)
        self.matcher = Matcher(knowledge.entries, self.normaliser)

    @classmethod
    def from_directory(cls, directory: Path | None = None) -> Adviser:
        directory = directory or default_knowledge_dir()
        knowledge = load_knowledge(directory)
        return cls(knowledge, load_lexicon(directory / "lexicon.toml", set(knowledge.clauses)))

    def advise(self, text: str) -> Advice:
        text = text[:MAX_CHARS]
        folded = fold(text)
        normalised = self.normaliser.text(text)
        hits = scan(self.lexicon.signals, normalised, folded)
        matches = self.matcher.search(text, limit=1 + MAX_ALTERNATIVES)
        return self._decide(matches, hits)

    def _decide(self, matches: list[Match], hits: list[Hit]) -> Advice:
        top = matches[0] if matches else None
        confidence = top.score if top else 0.0
        band = (
            Band.HIGH
            if confidence >= self.thresholds.high
            else Band.MIDDLE
            if confidence >= self.thresholds.middle
            else Band.LOW
        )
        severities = {hit.signal.severity for hit in hits}
        risky = [h for h in hits if h.signal.severity in (Severity.NOT_OK, Severity.CAUTION)]
        entry: Entry | None = top.entry if top and band is not Band.LOW else None

        if Severity.NOT_OK in severities:
            verdict = Verdict.NOT_OK
        elif entry is not None:
            verdict = entry.verdict
            if verdict is Verdict.OK and (risky or Severity.MANIPULATION in severities):
                verdict = Verdict.CAUTION
            if verdict is Verdict.OUT_OF_SCOPE and hits:
                entry, verdict = None, Verdict.ASK
        elif Severity.CAUTION in severities:
            verdict = Verdict.CAUTION
        else:
            verdict = Verdict.ASK

        route = self._route(verdict, entry, hits)
        clauses = self._clauses(verdict, entry, hits, route)
        alternatives: tuple[Alternative, ...] = ()
        if band is Band.MIDDLE:
            alternatives = tuple(
                Alternative(m.entry.id, m.question, m.entry.verdict)
                for m in matches[1 : 1 + MAX_ALTERNATIVES]
                if m.entry.verdict is not Verdict.OUT_OF_SCOPE
            )
        return Advice(
            verdict=verdict,
            clauses=clauses,
            entry=entry.id if entry else None,
            confidence=confidence,
            route=route,
            answer=self._compose(verdict, entry, hits, route),
            policy_version=self.knowledge.policy_version,
            band=band,
            alternatives=alternatives,
            signals=tuple(h.signal.name for h in hits),
        )

    @staticmethod
    def _route(verdict: Verdict, entry: Entry | None, hits: list[Hit]) -> Route:
        if verdict is not Verdict.ASK:
            return Route.NONE
        if any(h.signal.route is Route.DCCT for h in hits):
            return Route.DCCT
        if entry is not None and entry.route is not Route.NONE:
            return entry.route
        return Route.LINE_MANAGER

    @staticmethod
    def _clauses(
        verdict: Verdict, entry: Entry | None, hits: list[Hit], route: Route
    ) -> tuple[str, ...]:
        cited: list[str] = []
        for hit in hits:
            if hit.signal.severity is not Severity.MANIPULATION:
                cited += hit.signal.clauses
        if entry is not None and entry.verdict is not Verdict.OUT_OF_SCOPE:
            cited += entry.clauses
        if verdict is Verdict.ASK:
            cited.append("F2" if route is Route.DCCT else "F1")
        return tuple(dict.fromkeys(cited))

    def _compose(self, verdict: Verdict, entry: Entry | None, hits: list[Hit], route: Route) -> str:
        parts: list[str] = []
        if entry is not None:
            parts.append(entry.answer)
        elif verdict is Verdict.ASK:
            who = (
                "the DCCT (Digital Communications and Content Team)"
                if route is Route.DCCT
                else "your line manager"
            )
            parts.append(
                "I can't match this confidently to the policy, so I won't guess. "
                "The policy asks you to seek early advice if in any doubt: "
                f"ask {who} before posting."
            )
        seen: set[str] = set()
        for hit in hits:
            if hit.signal.explanation not in seen:
                seen.add(hit.signal.explanation)
                parts.append(hit.signal.explanation)
        return "\n\n".join(parts)
