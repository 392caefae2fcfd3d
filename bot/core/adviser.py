"""Turn one message into Advice: match the FAQ, read the risk signals, decide, compose.

The rules here are the safety net around the matcher. A fuzzy match can be wrong, so a
risk signal always outranks an 'ok'; a weak match never guesses but asks; a message with
no social-media vocabulary at all is out of scope; and a pasted draft is judged on what
it says, not on how the question around it is phrased.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.drafts import split_draft
from bot.core.knowledge import default_knowledge_dir, load_knowledge
from bot.core.matcher import Match, Matcher
from bot.core.normalise import Normaliser, fold
from bot.core.signals import Hit, Lexicon, Severity, load_lexicon, scan
from bot.core.types import Advice, Alternative, Band, Entry, Knowledge, Route, Verdict

MAX_CHARS = 4000  # edges refuse longer input; the core never scans more than this
MAX_ALTERNATIVES = 3
SENTENCE_END = re.compile(r"\?+\s*|(?:,\s*)?\band (?:can|could|is|may|should) i\b")
# How cautious each verdict is, for combining the FAQ's view with the signals'.
STRICTNESS = {Verdict.OK: 0, Verdict.CAUTION: 1, Verdict.ASK: 2, Verdict.NOT_OK: 3}
SIGNAL_VERDICT = {
    Severity.NOT_OK: Verdict.NOT_OK,
    Severity.ASK: Verdict.ASK,
    Severity.CAUTION: Verdict.CAUTION,
}
PERSONAL_POST_CLAUSES = ("D14", "D6")
OUT_OF_SCOPE_ANSWER = (
    "That's not something I can help with: I advise Scottish Parliament staff on the "
    "Social Media policy for personal use. Ask me whether something is OK to post, or paste "
    "your draft post. For HR, IT or facilities questions, see the staff intranet."
)
LEADS = {
    Verdict.NOT_OK: "Don't post this as it stands.",
    Verdict.CAUTION: "You can probably post this, but take care first.",
    Verdict.ASK: "Check before you post this.",
    Verdict.OK: "This looks fine to post.",
}


@dataclass(frozen=True)
class Thresholds:
    """Matcher scores (0..1) that separate the confidence bands."""

    high: float = 0.62
    middle: float = 0.45


class Adviser:
    """Pure and thread-safe after construction: build once, call `advise` from anywhere."""

    def __init__(
        self, knowledge: Knowledge, lexicon: Lexicon, thresholds: Thresholds | None = None
    ) -> None:
        self.knowledge = knowledge
        self.lexicon = lexicon
        self.thresholds = thresholds or Thresholds()
        self.normaliser = Normaliser(lexicon.replacements, lexicon.concepts)
        self.matcher = Matcher(knowledge.entries, self.normaliser)
        self._topic_single = frozenset(w for w in lexicon.topic_words if " " not in w)
        self._topic_phrases = tuple(f" {w} " for w in lexicon.topic_words if " " in w)

    @classmethod
    def from_directory(cls, directory: Path | str | None = None) -> Adviser:
        directory = Path(directory) if directory else default_knowledge_dir()
        knowledge = load_knowledge(directory)
        return cls(knowledge, load_lexicon(directory / "lexicon.toml", set(knowledge.clauses)))

    def advise(self, text: str) -> Advice:
        folded = fold(text[:MAX_CHARS])
        parts = split_draft(folded)
        normalised = self.normaliser.text(folded)
        hits = scan(self.lexicon.signals, normalised, folded)
        if not parts.has_draft and not hits and not self._on_topic(normalised):
            return self._out_of_scope(folded)
        matches = self._search(folded, 2 + MAX_ALTERNATIVES)
        # A message asking two things gets the more cautious answer of the two.
        questions = [
            q
            for q in SENTENCE_END.split(parts.question)
            if len(q.split()) >= 4 and self._on_topic(self.normaliser.text(q))
        ]
        # Around a pasted draft, the question alone says best what the person wants to do.
        several = len(questions) > 1 or parts.has_draft
        picks = [m for q in questions if several for m in self._search(q, 1)]
        return self._decide(matches, picks, hits, has_draft=parts.has_draft)

    def _search(self, text: str, limit: int) -> list[Match]:
        found = self.matcher.search(text, limit=limit + 2)
        return [m for m in found if m.entry.verdict is not Verdict.OUT_OF_SCOPE][:limit]

    def _on_topic(self, normalised: str) -> bool:
        if self._topic_single.intersection(normalised.split()):
            return True
        padded = f" {normalised} "
        return any(phrase in padded for phrase in self._topic_phrases)

    def _band(self, score: float) -> Band:
        if score >= self.thresholds.high:
            return Band.HIGH
        return Band.MIDDLE if score >= self.thresholds.middle else Band.LOW

    def _out_of_scope(self, folded: str) -> Advice:
        top = next(iter(self.matcher.search(folded, limit=1)), None)
        entry = top.entry if top and top.entry.verdict is Verdict.OUT_OF_SCOPE else None
        usable = entry is not None and top is not None and top.score >= self.thresholds.middle
        return Advice(
            verdict=Verdict.OUT_OF_SCOPE,
            clauses=(),
            entry=entry.id if usable and entry else None,
            confidence=max(top.score if usable and top else 0.0, 0.8),
            route=Route.NONE,
            answer=entry.answer if usable and entry else OUT_OF_SCOPE_ANSWER,
            policy_version=self.knowledge.policy_version,
            band=Band.HIGH,
        )

    def _decide(
        self, matches: list[Match], picks: list[Match], hits: list[Hit], *, has_draft: bool
    ) -> Advice:
        top = matches[0] if matches else None
        band = self._band(top.score) if top else Band.LOW
        # A part of a message is short on context: only a confident match of it counts.
        candidates = [m for m in picks if self._band(m.score) is Band.HIGH]
        candidates += [m for m in matches[:1] if self._band(m.score) is not Band.LOW]
        # The most cautious confident match speaks; the others add context. For a pasted
        # draft, general information is context only: the draft needs a verdict.
        actionable = [m for m in candidates if m.entry.verdict in STRICTNESS]
        primary = max(actionable, key=lambda m: STRICTNESS[m.entry.verdict], default=None)
        if primary is None and not has_draft and candidates:
            primary = candidates[0]
        entry: Entry | None = primary.entry if primary else None
        context = [m.entry for m in candidates if m.entry is not entry]
        manipulated = any(h.signal.severity is Severity.MANIPULATION for h in hits)
        signal_verdicts = [
            SIGNAL_VERDICT[h.signal.severity] for h in hits if h.signal.severity in SIGNAL_VERDICT
        ]
        strongest = max(signal_verdicts, key=STRICTNESS.__getitem__, default=None)

        if strongest is Verdict.NOT_OK:
            verdict = Verdict.NOT_OK
        elif entry is not None and entry.verdict in (Verdict.INFO,):
            verdict = entry.verdict
        elif entry is not None:
            verdict = entry.verdict
            if strongest is not None and STRICTNESS[strongest] > STRICTNESS[verdict]:
                verdict = strongest
        elif strongest is not None:
            verdict = strongest
        elif has_draft or any(h.signal.severity is Severity.SUPPORTS for h in hits):
            verdict = Verdict.OK
        else:
            verdict = Verdict.ASK
        if verdict is Verdict.OK and manipulated:
            verdict = Verdict.CAUTION  # someone pushing for a yes gets a careful answer

        # The entry speaks only when it agrees with the verdict we are giving.
        speaking = entry if entry is not None and entry.verdict is verdict else None
        route = self._route(verdict, speaking, hits)
        confidence = self._confidence(top.score if top else 0.0, verdict, speaking, hits)
        alternatives: tuple[Alternative, ...] = ()
        if band is Band.MIDDLE and speaking is not None:
            alternatives = tuple(
                Alternative(m.entry.id, m.question, m.entry.verdict)
                for m in matches[1 : 1 + MAX_ALTERNATIVES]
                if m.entry is not speaking and self._band(m.score) is not Band.LOW
            )
        extra = [e for e in dict.fromkeys(context) if e is not speaking]
        return Advice(
            verdict=verdict,
            clauses=self._clauses(verdict, speaking, extra, hits, route, has_draft=has_draft),
            entry=speaking.id if speaking else None,
            confidence=confidence,
            route=route,
            answer=self._compose(verdict, speaking, extra, hits, route),
            policy_version=self.knowledge.policy_version,
            band=band if speaking else (Band.HIGH if hits else Band.LOW),
            alternatives=alternatives,
            signals=tuple(h.signal.name for h in hits),
        )

    @staticmethod
    def _confidence(score: float, verdict: Verdict, entry: Entry | None, hits: list[Hit]) -> float:
        if any(SIGNAL_VERDICT.get(h.signal.severity) is verdict for h in hits):
            return max(score, 0.85)
        return score if entry is not None else min(score, 0.4)

    @staticmethod
    def _route(verdict: Verdict, entry: Entry | None, hits: list[Hit]) -> Route:
        if verdict not in (Verdict.ASK, Verdict.INFO, Verdict.CAUTION):
            return Route.NONE
        if entry is not None and entry.route is not Route.NONE:
            return entry.route
        routes = [h.signal.route for h in hits if h.signal.route is not Route.NONE]
        if verdict is not Verdict.ASK:
            return Route.NONE
        if Route.DCCT in routes and Route.LINE_MANAGER not in routes:
            return Route.DCCT
        return Route.LINE_MANAGER

    @staticmethod
    def _clauses(
        verdict: Verdict,
        entry: Entry | None,
        extra: list[Entry],
        hits: list[Hit],
        route: Route,
        *,
        has_draft: bool,
    ) -> tuple[str, ...]:
        cited: list[str] = []
        # Signals that agree with the verdict first, then the others that fired.
        for wanted in (True, False):
            for hit in hits:
                agrees = SIGNAL_VERDICT.get(hit.signal.severity) is verdict
                if hit.signal.severity is not Severity.MANIPULATION and agrees is wanted:
                    cited += hit.signal.clauses
        if entry is not None:
            cited = list(entry.clauses) + cited
        for other in extra:
            cited += other.clauses
        if not cited and verdict is Verdict.OK and has_draft:
            cited += PERSONAL_POST_CLAUSES
        if verdict is Verdict.ASK:
            cited.append("F2" if route is Route.DCCT else "F1")
        return tuple(dict.fromkeys(cited))

    @staticmethod
    def _compose(
        verdict: Verdict, entry: Entry | None, extra: list[Entry], hits: list[Hit], route: Route
    ) -> str:
        parts: list[str] = []
        if entry is not None:
            parts.append(entry.answer)
        elif verdict is Verdict.ASK and not hits:
            who = (
                "the DCCT (Digital Communications and Content Team)"
                if route is Route.DCCT
                else "your line manager"
            )
            parts.append(
                "I can't match this confidently to the policy, so I won't guess. The policy "
                f"asks you to seek early advice if in any doubt: ask {who} before posting."
            )
        elif verdict is Verdict.OK:
            parts.append(
                "I can't see anything in this that the policy warns against: it reads as a "
                "personal post, and what you do in your personal life is generally your own "
                "business. Remember it will be public and hard to erase, whatever your settings."
            )
        elif verdict in LEADS:
            parts.append(LEADS[verdict])
        parts += [other.answer for other in extra if other.verdict is Verdict.INFO]
        # A signal explains itself unless the entry's answer already covers its clauses.
        covered = set(entry.clauses) if entry is not None else set()
        seen: set[str] = set()
        for hit in hits:
            fresh = not set(hit.signal.clauses) <= covered or not hit.signal.clauses
            if fresh and hit.signal.explanation not in seen:
                seen.add(hit.signal.explanation)
                parts.append(hit.signal.explanation)
        return "\n\n".join(parts)
