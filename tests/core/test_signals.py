"""Signals are data: every one runs its own examples, and a broken one is named, not crashed on."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core import KnowledgeError, load_knowledge
from bot.core.signals import Severity, load_lexicon, parse_lexicon, scan, surface
from tests.conftest import KNOWLEDGE

CLAUSES = set(load_knowledge(KNOWLEDGE).clauses)


def signal(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "name": "test-signal",
        "severity": "not_ok",
        "clauses": ["D9"],
        "problem": "a leak",
        "explanation": "why",
        "all": [["leak(ed)?"]],
        "fires_on": ["the report leaked"],
        "ignores": ["a quiet day"],
    }
    raw.update(overrides)
    return raw


def problems_of(data: Any) -> list[str]:
    with pytest.raises(KnowledgeError) as caught:
        parse_lexicon(data, "signals.toml", CLAUSES)
    return caught.value.problems


def test_shipped_signals_load_and_each_explains_itself() -> None:
    lexicon = load_lexicon(KNOWLEDGE / "signals.toml", CLAUSES)
    assert len(lexicon.signals) >= 20
    for s in lexicon.signals:
        assert s.explanation
        assert s.problem
        if s.severity is not Severity.MANIPULATION:
            assert s.clauses, s.name


def test_a_valid_signal_fires_and_quotes_the_sentence() -> None:
    lexicon = parse_lexicon({"signal": [signal()]}, "signals.toml", CLAUSES)
    hits = scan(
        lexicon.signals, "Lovely morning on the Meadows. Apparently the budget leaked to the press!"
    )
    assert [h.signal.name for h in hits] == ["test-signal"]
    assert hits[0].quote == "Apparently the budget leaked to the press!"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"all": [["(unclosed"]]}, "field 'all' group 1: bad pattern"),
        ({"clauses": ["Z9"]}, "unknown clause(s) Z9"),
        ({"clauses": "D9"}, "field 'clauses' must be a list of clause ids"),
        ({"severity": "terrible"}, "field 'severity' must be one of"),
        ({"all": "leak"}, "field 'all' must be a list of pattern lists"),
        ({"all": [[]]}, "must be a non-empty list of patterns"),
        ({"explanation": None}, "field 'explanation' must be a non-empty string"),
        ({"fires_on": ["nothing relevant here"]}, "field 'fires_on': does not fire on"),
        ({"ignores": ["it leaked"]}, "field 'ignores': fires on"),
        ({"fires_on": []}, "field 'fires_on' must be a non-empty list"),
        ({"all": [["{nowhere}"]]}, "names unknown concept '{nowhere}'"),
        ({"severity": "ask"}, "field 'route' is required"),
        ({"colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_a_broken_signal_is_named_with_its_field(
    overrides: dict[str, object], message: str
) -> None:
    problems = problems_of({"signal": [signal(**overrides)]})
    assert any("signal #1 'test-signal'" in p and message in p for p in problems), problems


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"topic": "post"}, "unknown section(s) topic"),
        ({"signal": ["oops"]}, "signal #1: must be a table"),
        ({"signal": "oops"}, "'signal' must be [[signal]] tables"),
        ({"concepts": {"x": "word"}}, "[concepts] 'x': must be a non-empty list"),
        ({"concepts": ["x"]}, "[concepts]: must be a table"),
    ],
)
def test_wrong_shapes_are_reported_not_crashed_on(data: dict[str, object], message: str) -> None:
    assert any(message in p for p in problems_of(data)), problems_of(data)


def test_concepts_expand_and_spaces_match_punctuation() -> None:
    lexicon = parse_lexicon(
        {
            "concepts": {"door": ["side door", "back gate"]},
            "signal": [
                signal(
                    all=[["{door} (is )?open"]],
                    fires_on=["the back-gate is open"],
                    ignores=["open day"],
                )
            ],
        },
        "signals.toml",
        CLAUSES,
    )
    assert scan(lexicon.signals, "FYI: the SIDE door, open till 9")
    assert not scan(lexicon.signals, "the side of the door")


def test_surface_keeps_emoji_and_folds_accents_and_quotes() -> None:
    assert surface("Café  ‘secret’ 🤫") == "cafe 'secret' 🤫"
