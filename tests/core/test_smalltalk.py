"""Greetings, thanks and emoji get a friendly word; the verdict stays out of scope, and no
labelled question is ever mistaken for small talk."""

from __future__ import annotations

import pytest

from bot.core import Adviser, KnowledgeError, Verdict, load_knowledge
from bot.core.examples import load_examples
from bot.core.smalltalk import entry_problems, load_smalltalk, misread_examples, parse_smalltalk
from tests.conftest import KNOWLEDGE

SMALLTALK = load_smalltalk(KNOWLEDGE / "smalltalk.toml")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("hi", "greeting"),
        ("Hi there!", "greeting"),
        ("Good morning team 👋", "greeting"),
        ("thanks!", "thanks"),
        ("Thank you so much 🙏", "thanks"),
        ("hi, thanks", "thanks"),  # thanks wins
        ("👍", "reaction"),
        ("👍🏽❤️", "reaction"),
        (":)", "reaction"),
        ("ok", "acknowledgement"),
        ("bye!", "farewell"),
        ("see you later", "farewell"),
    ],
)
def test_small_talk_is_recognised(text: str, kind: str) -> None:
    found = SMALLTALK.recognise(text)
    assert found is not None
    assert found.name == kind


@pytest.mark.parametrize(
    "text",
    [
        "hi, can I post a selfie at my desk?",
        "thanks to my colleagues for a great year",
        "???",
        "",
        "hello " * 20,
    ],
)
def test_anything_more_is_not(text: str) -> None:
    assert SMALLTALK.recognise(text) is None


def test_a_longer_thank_you_counts_only_when_it_asks_nothing() -> None:
    assert SMALLTALK.leading("Cheers, that saved me a lot of bother") is not None
    assert SMALLTALK.leading("Thanks! Where do I park my bike?") is None
    assert SMALLTALK.leading('Thanks to the team: "best event ever"') is None
    assert SMALLTALK.leading("Lovely day at the office") is None


@pytest.mark.parametrize(
    ("text", "entry"),
    [
        ("hi", "greeting"),
        ("thanks!", "thanks"),
        ("👍", None),
        ("Cheers, that saved me a lot of bother", "thanks"),
        ("what can you do", "what-can-you-do"),  # a chat FAQ entry counts as small talk
    ],
)
def test_the_adviser_answers_small_talk_kindly_and_keeps_it_out_of_scope(
    adviser: Adviser, text: str, entry: str | None
) -> None:
    advice = adviser.advise(text)
    assert advice.verdict is Verdict.OUT_OF_SCOPE  # as the examples label it
    assert advice.small_talk is not None
    assert advice.entry == entry  # the reply is the FAQ's chat answer, where there is one
    assert "not something I can help with" not in advice.answer
    assert advice.clauses == ()


def test_no_labelled_question_reads_as_small_talk() -> None:
    """What `knowledge check` guards: small talk skips the adviser, so a word list that
    swallowed a real question would hide its advice."""
    examples, _ = load_examples(KNOWLEDGE, set(load_knowledge(KNOWLEDGE).clauses))
    assert misread_examples(SMALLTALK, examples) == []
    greedy = parse_smalltalk(
        {"reaction": "x", "kind": {"any": {"words": ["new", "hair", "who", "dis"], "reply": "x"}}},
        "smalltalk.toml",
    )
    [problem] = misread_examples(greedy, examples)
    assert problem.startswith("smalltalk.toml [kind.any]: example ")
    assert "(labelled ok) would read as small talk" in problem


def test_a_kind_s_entry_must_be_an_out_of_scope_faq_entry() -> None:
    verdicts = {e.id: e.verdict for e in load_knowledge(KNOWLEDGE).entries}
    assert entry_problems(SMALLTALK, verdicts) == []
    verdicts["greeting"] = Verdict.OK
    [problem] = entry_problems(SMALLTALK, verdicts)
    assert "[kind.greeting]: field 'entry' must name an out_of_scope FAQ entry" in problem


def test_a_broken_file_names_the_kind_and_field() -> None:
    with pytest.raises(KnowledgeError) as caught:
        parse_smalltalk(
            {
                "reaction": "",
                "filler": ["hi"],
                "kind": {
                    "greeting": {"words": ["hi", "hi!"], "reply": "Hello"},
                    "thanks": {"words": ["thanks"], "leading": ["cheers"], "reply": 3},
                    "bye": {"words": ["bye"], "reply": "Bye", "entry": "goodbye"},
                },
            },
            "smalltalk.toml",
        )
    problems = caught.value.problems
    assert "smalltalk.toml: field 'reaction' must be the reply to emoji alone" in problems
    assert "smalltalk.toml [kind.greeting]: 'hi!' must be plain words (letters, digits, ')" in (
        problems
    )
    assert "smalltalk.toml [kind.thanks]: fields 'reply' and 'entry' must be strings" in problems
    assert any("[kind.bye]: give either 'entry'" in p for p in problems)
    assert any("'leading' has 'cheers'" in p for p in problems)
    assert any("'filler' repeats small-talk words: hi" in p for p in problems)
