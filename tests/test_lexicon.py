"""The lexicon is data too: broken patterns and unknown clauses are named, not crashed on."""

from __future__ import annotations

import tomllib

import pytest

from bot.core import KnowledgeError, load_knowledge
from bot.core.normalise import Normaliser
from bot.core.signals import Severity, load_lexicon, parse_lexicon
from tests.conftest import KNOWLEDGE

CLAUSES = set(load_knowledge(KNOWLEDGE).clauses)
BASE = {"replacements": {}, "concepts": {}, "topic": {"words": ["post"]}}


def signal(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "name": "test-signal",
        "severity": "not_ok",
        "clauses": ["D9"],
        "all": [["leak"]],
        "explanation": "why",
    }
    raw.update(overrides)
    return raw


def test_shipped_lexicon_loads_and_every_signal_has_an_explanation() -> None:
    lexicon = load_lexicon(KNOWLEDGE / "lexicon.toml", CLAUSES)
    assert len(lexicon.signals) >= 25
    names = [s.name for s in lexicon.signals]
    assert len(names) == len(set(names))
    for s in lexicon.signals:
        assert s.explanation
        if s.severity in (Severity.NOT_OK, Severity.CAUTION):
            assert s.clauses, s.name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"all": [["(unclosed"]]}, "field 'all': bad pattern"),
        ({"clauses": ["Z9"]}, "unknown clause(s) Z9"),
        ({"severity": "terrible"}, "'terrible' is not a valid Severity"),
        ({"all": [], "raw": []}, "needs at least one 'all' or 'raw' group"),
        ({"explanation": None}, "field 'explanation' is missing"),
    ],
)
def test_a_broken_signal_is_named(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse_lexicon({**BASE, "signal": [signal(**overrides)]}, "lexicon.toml", CLAUSES)
    assert any("signal #1 'test-signal'" in p and message in p for p in caught.value.problems), (
        caught.value.problems
    )


def test_missing_topic_words_are_refused() -> None:
    with pytest.raises(KnowledgeError, match=r"\[topic\] needs"):
        parse_lexicon({"replacements": {}}, "lexicon.toml", CLAUSES)


def test_concepts_catch_inflections_and_phrases() -> None:
    data = tomllib.loads((KNOWLEDGE / "lexicon.toml").read_text())
    normaliser = Normaliser(data["replacements"], data["concepts"])
    assert normaliser.text("He was retweeting it") == "he was post it"
    assert normaliser.text("where I work") == "employer"
    assert normaliser.text("the Parliament's main account") == "parliament main account"
    assert normaliser.text("cud u put a pic on insta") == "could you put a photo on platform"
