"""The rules around the judge: OK only when sure, signals only ever make it stricter."""

from __future__ import annotations

import re

import pytest

from bot.core.adviser import STRICTNESS, Thresholds, decide
from bot.core.signals import Hit, Severity, Signal
from bot.core.types import Route, Verdict

TH = Thresholds(ok_min=0.6, ok_min_pressed=0.8, ok_max_not_ok=0.05)


def probs(**given: float) -> dict[Verdict, float]:
    p = dict.fromkeys(Verdict, 0.0)
    for name, value in given.items():
        p[Verdict(name)] = value
    return p


def hit(severity: Severity, route: Route = Route.NONE) -> Hit:
    signal = Signal(
        name=f"test-{severity.value}", severity=severity, clauses=("D9",), problem="p",
        explanation="e", route=route, groups=(re.compile("x"),), unless=None,
    )  # fmt: skip
    return Hit(signal, "x", "x")


def test_a_confident_ok_with_no_signal_is_ok() -> None:
    assert decide(probs(ok=0.9, caution=0.08, not_ok=0.02), [], TH) == (Verdict.OK, False)


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (probs(ok=0.55, caution=0.3, not_ok=0.15), Verdict.CAUTION),  # not sure enough
        (probs(ok=0.5, ask=0.4, not_ok=0.1), Verdict.ASK),  # and asking is likelier
        (probs(ok=0.8, caution=0.1, not_ok=0.1), Verdict.CAUTION),  # not OK too likely
    ],
)
def test_an_unsure_ok_becomes_caution_or_ask(p: dict[Verdict, float], expected: Verdict) -> None:
    assert decide(p, [], TH) == (expected, False)


def test_pressure_for_a_yes_needs_more_certainty() -> None:
    p = probs(ok=0.7, caution=0.28, not_ok=0.02)
    assert decide(p, [], TH)[0] is Verdict.OK
    assert decide(p, [hit(Severity.MANIPULATION)], TH)[0] is Verdict.CAUTION


@pytest.mark.parametrize("severity", [Severity.CAUTION, Severity.ASK, Severity.NOT_OK])
@pytest.mark.parametrize("judged", [Verdict.OK, Verdict.CAUTION, Verdict.ASK, Verdict.NOT_OK])
def test_a_signal_raises_and_never_lowers(severity: Severity, judged: Verdict) -> None:
    p = probs(
        **{judged.value: 0.97, "caution": 0.03}
        if judged is not Verdict.CAUTION
        else {"caution": 1.0}
    )
    verdict, _ = decide(p, [hit(severity, Route.DCCT)], TH)
    floor = {
        Severity.CAUTION: Verdict.CAUTION,
        Severity.ASK: Verdict.ASK,
        Severity.NOT_OK: Verdict.NOT_OK,
    }
    assert STRICTNESS[verdict] == max(STRICTNESS[judged], STRICTNESS[floor[severity]])


def test_context_signals_never_change_the_verdict() -> None:
    assert decide(probs(ok=0.99, not_ok=0.0), [hit(Severity.CONTEXT)], TH)[0] is Verdict.OK


def test_small_talk_stays_out_of_scope_unless_a_real_hazard_is_named() -> None:
    p = probs(out_of_scope=0.9, ok=0.1)
    assert decide(p, [hit(Severity.CAUTION)], TH)[0] is Verdict.OUT_OF_SCOPE
    assert decide(p, [hit(Severity.NOT_OK)], TH) == (Verdict.NOT_OK, True)


def test_information_answers_are_not_turned_into_verdicts() -> None:
    assert decide(probs(info=0.8, not_ok=0.2), [hit(Severity.NOT_OK)], TH)[0] is Verdict.INFO
