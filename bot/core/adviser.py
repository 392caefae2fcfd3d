"""Turn one message into Advice: the judge reads it, the signals make it stricter, then compose.

The learned judge gives probabilities; the rules here decide what to say with them:
- "OK" only when the judge is confident (a threshold calibrated on examples the model
  did not see) *and* no risk signal fired;
- a risk signal can raise a verdict (ok -> caution -> ask -> not_ok), never lower one;
- in doubt between OK and not OK, the answer is "take care" or "ask first";
- a message that is, word for word, one of the FAQ's own questions gets that entry;
- a message close to a case the DCCT ruled on gets that ruling (rulings.py), unless the
  signals see something the ruling did not;
- an answer citing a clause whose wording changed, not yet reviewed, says so (policy.py).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from bot.core.encoder import PINNED_SHA256, Encoder, default_model_dir
from bot.core.explain import ClauseNote, compose, load_reasons, mentioned_clauses, shorten
from bot.core.judge import Embedder, Judge, Judgement, load_artefact
from bot.core.knowledge import KnowledgeError, default_knowledge_dir, load_knowledge
from bot.core.policy import review_note, under_review
from bot.core.rulings import (
    MATCH,
    MATCH_GENTLER,
    Ruling,
    RulingBook,
    load_rulings,
    ruling_clauses,
)
from bot.core.signals import Hit, Lexicon, Severity, load_lexicon, scan
from bot.core.smalltalk import Kind, SmallTalk, entry_problems, load_smalltalk
from bot.core.types import (
    MAX_CHARS,
    Advice,
    Alternative,
    Band,
    Entry,
    Knowledge,
    Reason,
    Route,
    Verdict,
)

MAX_ALTERNATIVES = 3
MAX_CLAUSES = 3
MAX_REASONS = 2
ADVISORY = frozenset({"F1", "F2"})  # whom to ask, not what a post is about
CHAT_TAG = "chat"  # an out-of-scope FAQ entry that is conversation (hello, thanks, …)
VERBATIM = 0.99  # cosine at which a message is one of the FAQ's questions, word for word
MODEL_ID = f"all-MiniLM-L6-v2:{PINNED_SHA256['model.safetensors'][:16]}"

STRICTNESS = {Verdict.OK: 0, Verdict.CAUTION: 1, Verdict.ASK: 2, Verdict.NOT_OK: 3}
RAISES = {
    Severity.CAUTION: Verdict.CAUTION,
    Severity.ASK: Verdict.ASK,
    Severity.NOT_OK: Verdict.NOT_OK,
}
OUT_OF_SCOPE_ANSWER = (
    "That's not something I can help with: I advise Scottish Parliament staff on the "
    "Social Media policy for personal use. Ask me whether something is OK to post, or paste "
    "your draft post. For HR, IT or facilities questions, see the staff intranet."
)


@dataclass(frozen=True)
class Thresholds:
    """Calibrated at training time (see training.calibrate) and stored with the judge."""

    ok_min: float = 0.6  # P(ok) needed to say OK when no signal fired
    ok_min_pressed: float = 0.8  # ... when the message argues for a yes
    ok_max_not_ok: float = 0.05  # and P(not_ok) may be at most this: in doubt, not OK wins
    clause_min: float = 0.4  # a clause is cited at this probability
    faq_exact: float = 0.95  # cosine at which a message *is* an FAQ question
    faq_answer: float = 0.6  # cosine at which an FAQ answer fits the message
    alternative: float = 0.5  # cosine for a "did you mean" suggestion

    @classmethod
    def from_json(cls, raw: Any) -> Thresholds:
        fields = cls.__dataclass_fields__
        values = {k: float(v) for k, v in (raw or {}).items() if k in fields}
        return cls(**values)


def strictest(verdicts: list[Verdict]) -> Verdict | None:
    return max(verdicts, key=STRICTNESS.__getitem__, default=None)


def decide(
    p: dict[Verdict, float], hits: list[Hit], thresholds: Thresholds
) -> tuple[Verdict, bool]:
    """The verdict, and whether a signal raised it. Pure: training calibrates with it."""
    verdict = max(p, key=lambda v: (p[v], -list(Verdict).index(v)))
    floor = strictest([RAISES[h.signal.severity] for h in hits if h.signal.severity in RAISES])
    pressed = any(h.signal.severity is Severity.MANIPULATION for h in hits)
    if verdict is Verdict.OUT_OF_SCOPE:
        # A message naming a real hazard is about posting after all; a weak signal
        # ("useless printer") does not pull small talk into scope.
        if floor in (Verdict.ASK, Verdict.NOT_OK):
            return floor, True
        return verdict, False
    if verdict is Verdict.INFO:
        return verdict, False
    if verdict is Verdict.OK:
        needed = thresholds.ok_min_pressed if pressed else thresholds.ok_min
        ceiling = thresholds.ok_max_not_ok / (2 if pressed else 1)
        if p[Verdict.OK] < needed or p.get(Verdict.NOT_OK, 0.0) > ceiling:
            verdict = (
                Verdict.ASK
                if p.get(Verdict.ASK, 0) > p.get(Verdict.CAUTION, 0)
                else Verdict.CAUTION
            )
    if floor is not None and STRICTNESS[floor] > STRICTNESS[verdict]:
        return floor, True
    return verdict, False


@functools.lru_cache(maxsize=4)
def _encoder(directory: Path) -> Encoder:
    # One encoder per model folder per process: the weights are read-only and shared.
    return Encoder.load(directory)


class Adviser:
    """Pure and thread-safe after construction: build once, call `advise` from anywhere.

    The one thing that changes while it runs is the book of DCCT rulings, swapped whole
    by `set_rulings` (an answer reads the book once, so it sees one book or the other).
    """

    def __init__(
        self,
        knowledge: Knowledge,
        lexicon: Lexicon,
        judge: Judge,
        notes: dict[str, ClauseNote],
        *,
        smalltalk: SmallTalk | None = None,
        max_chars: int = MAX_CHARS,
        rulings: Sequence[Ruling] = (),
    ) -> None:
        self.knowledge = knowledge
        self.lexicon = lexicon
        self.judge = judge
        self.notes = notes
        self.smalltalk = smalltalk
        self.max_chars = max_chars
        self.thresholds = Thresholds.from_json(judge.artefact.meta.get("thresholds"))
        self._entries = {e.id: e for e in knowledge.entries}
        self._under_review = under_review(knowledge.changes)
        # The rulings exported into knowledge/rulings/; the database's are merged in later.
        self.exported_rulings: tuple[Ruling, ...] = tuple(rulings)
        self._book = RulingBook.build(rulings, judge.embedder)

    @classmethod
    def from_directory(
        cls,
        directory: Path | str | None = None,
        model_dir: Path | None = None,
        embedder: Embedder | None = None,
        *,
        max_chars: int = MAX_CHARS,
    ) -> Adviser:
        directory = Path(directory) if directory else default_knowledge_dir()
        knowledge = load_knowledge(directory)
        clause_ids = set(knowledge.clauses)
        lexicon = load_lexicon(directory / "signals.toml", clause_ids)
        notes = load_reasons(directory / "reasons.toml", clause_ids)
        smalltalk = load_smalltalk(directory / "smalltalk.toml")
        rulings, problems = load_rulings(directory, clause_ids)
        problems += entry_problems(smalltalk, {e.id: e.verdict for e in knowledge.entries})
        if problems:
            raise KnowledgeError(problems)
        artefact = load_artefact(directory)
        if embedder is None:
            embedder = _encoder((model_dir or default_model_dir()).resolve())
        return cls(
            knowledge,
            lexicon,
            Judge(artefact, embedder),
            notes,
            smalltalk=smalltalk,
            max_chars=max_chars,
            rulings=rulings,
        )

    # -- the rulings in force ----------------------------------------------------------

    @property
    def rulings(self) -> tuple[Ruling, ...]:
        return self._book.rulings

    def set_rulings(self, rulings: Sequence[Ruling]) -> None:
        """Put these rulings in force (embedding only questions not seen before)."""
        self._book = RulingBook.build(rulings, self.judge.embedder, self._book)

    def fork(self) -> Adviser:
        """The same adviser with a book of rulings of its own: one per app, so that
        rulings one app takes in never reach another sharing the loaded knowledge."""
        return copy.copy(self)

    # -- advice --------------------------------------------------------------------------

    def advise(self, text: str) -> Advice:
        advice = self._advise(text)
        changed = [self._under_review[c] for c in advice.clauses if c in self._under_review]
        if not changed:
            return advice
        newest = max(changed, key=lambda c: c.changed_on)
        return replace(advice, notes=(*advice.notes, review_note(newest)))

    def _advise(self, text: str) -> Advice:
        text = text[: self.max_chars]
        if not text.strip():
            return self._out_of_scope(1.0)
        chat = self.smalltalk.recognise(text) if self.smalltalk else None
        if chat is not None:  # nothing but "hi", "thanks", 👍: no policy question in it
            return self._out_of_scope(1.0, self._entries.get(chat.entry), chat=chat)
        judgement = self.judge.judge(text)
        hits = scan(self.lexicon.signals, text)
        nearest = self.judge.nearest_questions(judgement.embedding, 24)
        top_id, _, top_score = nearest[0]
        ruled = self._ruling(judgement, hits, top_score)
        if ruled is not None:
            return self._from_ruling(*ruled, judgement, hits, nearest)
        exact = self._entries[top_id] if top_score >= self.thresholds.faq_exact else None
        if exact is not None:
            verdict, raised = exact.verdict, False
            floor = strictest(
                [RAISES[h.signal.severity] for h in hits if h.signal.severity in RAISES]
            )
            # Word for word one of the FAQ's questions: its reviewed answer stands. Anything
            # less than that can still be made stricter by what the signals found.
            if (
                top_score < VERBATIM
                and floor is not None
                and verdict in STRICTNESS
                and STRICTNESS[floor] > STRICTNESS[verdict]
            ):
                verdict, raised = floor, True
        else:
            verdict, raised = decide(judgement.verdicts, hits, self.thresholds)
        if verdict is Verdict.OUT_OF_SCOPE:
            chat = self.smalltalk.leading(text) if self.smalltalk and exact is None else None
            entry = self._entries.get(chat.entry) if chat else exact
            return self._out_of_scope(judgement.verdicts[Verdict.OUT_OF_SCOPE], entry, chat=chat)
        route = self._route(verdict, hits, judgement, exact)
        entry = (
            exact
            if exact is not None and exact.verdict is verdict
            else self._answer_entry(verdict, nearest)
        )
        reasons = self._reasons(verdict, hits, judgement)
        clauses = self._clauses(verdict, route, hits, judgement, entry, exact, reasons)
        # The FAQ's answer is said only where it explains what was found: an entry near
        # in wording but about other clauses would add a paragraph that does not fit.
        fits = (
            entry if entry is not None and (entry is exact or self._fits(entry, clauses)) else None
        )
        if fits is not None:
            clauses += [c for c in fits.clauses if c not in clauses]
        explanations = [
            h.signal.explanation
            for h in hits
            if h.signal.severity is Severity.MANIPULATION
            or (verdict is not Verdict.OK and h.signal.severity is Severity.CONTEXT)
        ]
        answer = compose(
            verdict,
            reasons,
            (fits.answer, fits.clauses) if fits else None,
            explanations,
            route.value,
            clauses,
            self.notes,
        )
        # The list and the text agree: every clause the answer names is listed (and
        # compose named every listed clause).
        clauses += [
            c for c in mentioned_clauses(answer) if c in self.knowledge.clauses and c not in clauses
        ]
        p = judgement.verdicts
        if raised:
            confidence = 0.9
        elif exact is not None:
            confidence = 1.0
        elif verdict in (Verdict.CAUTION, Verdict.ASK) and judgement.top() is Verdict.OK:
            # An unsure "OK" said with care: right if it was OK, or this, after all.
            confidence = p[Verdict.OK] + p[verdict]
        else:
            confidence = p.get(verdict, 0.0)
        band = self._band(confidence)
        return Advice(
            verdict=verdict,
            clauses=tuple(clauses),
            entry=fits.id if fits else None,
            confidence=confidence,
            route=route,
            answer=answer,
            policy_version=self.knowledge.policy_version,
            band=band,
            alternatives=self._alternatives(band, fits, nearest),
            signals=tuple(h.signal.name for h in hits),
            reasons=tuple(reasons),
        )

    # -- the parts ---------------------------------------------------------------------

    def _ruling(
        self, judgement: Judgement, hits: list[Hit], faq_score: float
    ) -> tuple[Ruling, float] | None:
        """The ruling on a case like this one, if one applies (see rulings.py)."""
        found = self._book.nearest(judgement.embedding)
        if found is None:
            return None
        ruling, score = found
        if score < MATCH or (faq_score >= self.thresholds.faq_exact and faq_score > score):
            return None  # nothing close enough, or one of the FAQ's questions is closer
        if score >= VERBATIM:
            return ruling, score  # the very question ruled on: the ruling stands as made
        strict = STRICTNESS[ruling.verdict]
        floor = strictest([RAISES[h.signal.severity] for h in hits if h.signal.severity in RAISES])
        if floor is not None and STRICTNESS[floor] > strict:
            return None  # the message has something the ruled case did not
        own, _ = decide(judgement.verdicts, hits, self.thresholds)
        gentler = strict < STRICTNESS[own] if own in STRICTNESS else ruling.verdict is Verdict.OK
        if gentler and score < MATCH_GENTLER:
            return None
        return ruling, score

    def _from_ruling(
        self,
        ruling: Ruling,
        score: float,
        judgement: Judgement,
        hits: list[Hit],
        nearest: list[tuple[str, int, float]],
    ) -> Advice:
        """The ruling's verdict and clauses; its answer text, else the closest FAQ answer
        with that verdict; and the words that raised its clauses, where signals found any."""
        verdict = ruling.verdict
        route = ruling.route if verdict is Verdict.ASK else Route.NONE
        if verdict is Verdict.ASK and route is Route.NONE:
            route = self._route(verdict, hits, judgement, None)
        reasons = [r for r in self._reasons(verdict, hits, judgement) if r.clause in ruling.clauses]
        entry = None if ruling.answer else self._answer_entry(verdict, nearest)
        explanations = [
            h.signal.explanation
            for h in hits
            if h.signal.severity is Severity.MANIPULATION
            or (verdict is not Verdict.OK and h.signal.severity is Severity.CONTEXT)
        ]
        listed = ruling_clauses(verdict, route, ruling.clauses)
        said: tuple[str, tuple[str, ...]] | None = None
        if ruling.answer:
            said = (ruling.answer, ruling.clauses)
        elif entry is not None:
            said = (entry.answer, entry.clauses)
        answer = compose(verdict, reasons, said, explanations, route.value, listed, self.notes)
        clauses = ruling_clauses(
            verdict,
            route,
            [
                *listed,
                *(c for c in mentioned_clauses(answer) if c in self.knowledge.clauses),
            ],
        )
        return Advice(
            verdict=verdict,
            clauses=clauses,
            entry=entry.id if entry else None,
            confidence=score,
            route=route,
            answer=answer,
            policy_version=self.knowledge.policy_version,
            band=Band.HIGH,
            signals=tuple(h.signal.name for h in hits),
            reasons=tuple(reasons),
            notes=(ruling.note(),),
            ruling=ruling.id,
        )

    @staticmethod
    def _band(confidence: float) -> Band:
        if confidence >= 0.7:
            return Band.HIGH
        return Band.MIDDLE if confidence >= 0.45 else Band.LOW

    def _out_of_scope(
        self, confidence: float, entry: Entry | None = None, *, chat: Kind | None = None
    ) -> Advice:
        """Not a policy question: an out-of-scope FAQ answer that fits, or the standard
        reply. Small talk (`chat`, or an FAQ entry tagged "chat": hello, thanks, what can
        you do) is marked as such, so channels answer with a friendly word, not a verdict."""
        fits = entry if entry is not None and entry.verdict is Verdict.OUT_OF_SCOPE else None
        if fits is not None:
            answer = fits.answer
        else:
            answer = chat.reply if chat and chat.reply else OUT_OF_SCOPE_ANSWER
        small_talk = chat.name if chat else None
        if small_talk is None and fits is not None and CHAT_TAG in fits.tags:
            small_talk = fits.id
        return Advice(
            verdict=Verdict.OUT_OF_SCOPE,
            clauses=(),
            entry=fits.id if fits else None,
            confidence=confidence,
            route=Route.NONE,
            answer=answer,
            policy_version=self.knowledge.policy_version,
            band=Band.HIGH,
            small_talk=small_talk,
        )

    def _route(
        self, verdict: Verdict, hits: list[Hit], judgement: Judgement, exact: Entry | None
    ) -> Route:
        if verdict is not Verdict.ASK:
            return exact.route if exact is not None and exact.verdict is verdict else Route.NONE
        if exact is not None and exact.route is not Route.NONE:
            return exact.route
        asked = [h.signal.route for h in hits if h.signal.severity is Severity.ASK]
        if asked and not any(
            STRICTNESS[RAISES[h.signal.severity]] > STRICTNESS[Verdict.ASK]
            for h in hits
            if h.signal.severity in RAISES
        ):
            return asked[0]
        return Route.DCCT if judgement.route[Route.DCCT] >= 0.5 else Route.LINE_MANAGER

    def _answer_entry(
        self, verdict: Verdict, nearest: list[tuple[str, int, float]]
    ) -> Entry | None:
        """The closest FAQ entry that gives the same verdict, if it is close enough to fit."""
        for entry_id, _, score in nearest:
            entry = self._entries[entry_id]
            if score < self.thresholds.faq_answer:
                return None
            if entry.verdict is verdict:
                return entry
        return None

    @staticmethod
    def _fits(entry: Entry, clauses: list[str]) -> bool:
        """Does the entry explain what was found? It shares a clause with the answer's,
        leaving aside F1/F2 (whom to ask, not what the post is about). With nothing found
        but whom to ask, the nearest entry is all there is to say."""
        found = {c for c in clauses if c not in ADVISORY}
        return not found or bool(found & set(entry.clauses))

    def _reasons(self, verdict: Verdict, hits: list[Hit], judgement: Judgement) -> list[Reason]:
        """The signals' reasons, strictest first, one per clause; the judge's own when no
        signal explains the answer."""
        if verdict in (Verdict.OK, Verdict.INFO):
            return []
        raising = [h for h in hits if h.signal.severity in RAISES and h.signal.clauses]
        raising.sort(key=lambda h: -STRICTNESS[RAISES[h.signal.severity]])
        reasons: dict[str, Reason] = {}
        for hit in raising:
            clause = hit.signal.clauses[0]
            note = self.notes.get(clause)
            reasons.setdefault(
                clause,
                Reason(
                    clause,
                    shorten(hit.quote),
                    hit.signal.problem,
                    note.fix if note else "",
                    hit.signal.name,
                ),
            )
        found = list(reasons.values()) or self._judged_reason(judgement)
        return found[:MAX_REASONS]

    def _judged_reason(self, judgement: Judgement) -> list[Reason]:
        """The judge's own reason: its most likely strict clause, and the sentence of the
        message that reads most at risk of it (the whole message when it has one)."""
        candidates = [c for c, n in self.notes.items() if n.problem and c in judgement.clauses]
        if not candidates:
            return []
        clause = max(candidates, key=lambda c: (judgement.clauses[c], c))
        if judgement.clauses[clause] < self.thresholds.clause_min / 2:
            return []
        part = max(judgement.parts, key=lambda p: (p.clauses.get(clause, 0.0), -len(p.text)))
        note = self.notes[clause]
        return [Reason(clause, shorten(part.text), note.problem, note.fix, "judge")]

    def _clauses(
        self,
        verdict: Verdict,
        route: Route,
        hits: list[Hit],
        judgement: Judgement,
        entry: Entry | None,
        exact: Entry | None,
        reasons: list[Reason],
    ) -> list[str]:
        cited: list[str] = [r.clause for r in reasons]
        if exact is not None:
            cited += exact.clauses
        for hit in hits:
            if hit.signal.severity in RAISES and verdict is not Verdict.OK:
                cited += hit.signal.clauses
        learned = sorted(judgement.clauses, key=lambda c: (-judgement.clauses[c], c))
        usable = [c for c in learned if verdict is Verdict.INFO or c not in ADVISORY]
        picked = [c for c in usable if judgement.clauses[c] >= self.thresholds.clause_min][
            :MAX_CLAUSES
        ]
        cited += picked or usable[:1]
        if entry is not None and not cited:
            cited += entry.clauses
        if verdict is not Verdict.OK:
            cited += [
                c for h in hits if h.signal.severity is Severity.CONTEXT for c in h.signal.clauses
            ]
        cited = list(dict.fromkeys(cited))[: MAX_CLAUSES + 1]
        if verdict is Verdict.ASK:
            cited.append("F2" if route is Route.DCCT else "F1")
        return list(dict.fromkeys(cited))

    def _alternatives(
        self, band: Band, entry: Entry | None, nearest: list[tuple[str, int, float]]
    ) -> tuple[Alternative, ...]:
        if band is Band.HIGH:  # sure of the answer: no "did you mean"
            return ()
        found: dict[str, Alternative] = {}
        for entry_id, index, score in nearest:
            if score < self.thresholds.alternative or len(found) == MAX_ALTERNATIVES:
                break
            other = self._entries[entry_id]
            if other is entry or other.id in found or other.verdict is Verdict.OUT_OF_SCOPE:
                continue
            found[other.id] = Alternative(other.id, other.questions[index], other.verdict)
        return tuple(found.values())
