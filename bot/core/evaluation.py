"""Score answers against labelled examples, by the same rules as shared/eval/score.py.

An answer is right when its verdict is the label or an accepted alternative and it
cites at least one of the label's clauses (an "ask" may cite F1/F2 instead; out of
scope needs none). "Dangerous" is the one mistake the adviser must never make: "OK"
where the label is "not OK".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.examples import Example
from bot.core.types import Advice, Verdict


class Advises(Protocol):
    def advise(self, text: str) -> Advice: ...


@dataclass(frozen=True)
class Answer:
    verdict: Verdict
    clauses: tuple[str, ...]


def right(example: Example, answer: Answer) -> tuple[bool, bool]:
    """(verdict acceptable, clauses acceptable)."""
    verdict_ok = answer.verdict in example.accepted
    gold, cited = set(example.clauses), set(answer.clauses)
    if example.verdict is Verdict.OUT_OF_SCOPE:
        clauses_ok = True
    elif answer.verdict is Verdict.ASK:
        clauses_ok = bool(cited & (gold | {"F1", "F2"}))
    else:
        clauses_ok = bool(cited & gold)
    return verdict_ok, clauses_ok


@dataclass
class Score:
    n: int = 0
    verdict: int = 0
    both: int = 0
    dangerous: int = 0
    by_kind: Counter[str] = field(default_factory=Counter)
    kind_n: Counter[str] = field(default_factory=Counter)
    misses: list[tuple[Example, Answer]] = field(default_factory=list)

    @property
    def percent(self) -> float:
        return 100.0 * self.both / self.n if self.n else 0.0

    def line(self) -> str:
        verdict = 100.0 * self.verdict / self.n if self.n else 0.0
        return (
            f"score {self.percent:.1f}% (verdict and clause right), dangerous {self.dangerous}; "
            f"verdict {verdict:.1f}%, n {self.n}"
        )


def score(pairs: Iterable[tuple[Example, Answer]]) -> Score:
    result = Score()
    for example, answer in pairs:
        verdict_ok, clauses_ok = right(example, answer)
        result.n += 1
        result.verdict += verdict_ok
        result.both += verdict_ok and clauses_ok
        danger = answer.verdict is Verdict.OK and example.verdict is Verdict.NOT_OK
        result.dangerous += danger
        result.kind_n[example.kind] += 1
        result.by_kind[example.kind] += verdict_ok and clauses_ok
        if danger or not (verdict_ok and clauses_ok):
            result.misses.append((example, answer))
    return result


def score_adviser(adviser: Advises, examples: Iterable[Example]) -> Score:
    """Ask the adviser every example and score its answers."""

    def answered() -> Iterator[tuple[Example, Answer]]:
        for example in examples:
            advice = adviser.advise(example.text)
            yield example, Answer(advice.verdict, advice.clauses)

    return score(answered())


def select(examples: Sequence[Example], split: str) -> list[Example]:
    return [e for e in examples if e.split == split]
