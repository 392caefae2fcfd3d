"""The answer text is composed from what was found: its clauses and its list agree, no
paragraph is said twice, and an FAQ answer is said only where it fits."""

from __future__ import annotations

import json
import re

import pytest

from bot.core import Adviser, Verdict
from bot.core.examples import load_examples
from bot.core.explain import ClauseNote, compose, mentioned_clauses, reason_lines
from bot.core.types import Advice, Reason
from tests.conftest import KNOWLEDGE, ROOT

PROBE = ROOT / "tests" / "data" / "probe.jsonl"


def runs(text: str, n: int = 7) -> set[str]:
    words = re.findall(r"[a-z']+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.fixture(scope="module")
def answers(adviser: Adviser) -> list[tuple[str, str, Advice]]:
    """Every held-out example and every probe question, answered once."""
    examples, problems = load_examples(KNOWLEDGE, set(adviser.knowledge.clauses))
    assert problems == []
    texts = [(e.id, e.text) for e in examples if e.split == "heldout"]
    texts += [(row["id"], row["text"]) for row in map(json.loads, PROBE.open()) if row]
    assert len(texts) > 1000
    return [(ident, text, adviser.advise(text)) for ident, text in texts]


def test_the_text_cites_exactly_the_listed_clauses(
    answers: list[tuple[str, str, Advice]],
) -> None:
    """So "select to show the wording" shows every clause the text names, and the text
    says why each listed clause is there."""
    wrong = [
        (ident, sorted(set(mentioned_clauses(a.answer)) ^ set(a.clauses)))
        for ident, _, a in answers
        if set(mentioned_clauses(a.answer)) != set(a.clauses)
    ]
    assert wrong == []


def test_no_paragraph_is_said_twice(answers: list[tuple[str, str, Advice]]) -> None:
    """Not word for word, and not a seven-word run of one paragraph again in another."""
    repeated = []
    for ident, _, advice in answers:
        paragraphs = [p for p in advice.answer.split("\n\n") if p.strip()]
        for i, first in enumerate(paragraphs):
            for second in paragraphs[i + 1 :]:
                if first == second or runs(first) & runs(second):
                    repeated.append((ident, first[:60], second[:60]))
    assert repeated == []


def test_an_faq_answer_is_said_only_where_it_shares_a_finding(
    adviser: Adviser, answers: list[tuple[str, str, Advice]]
) -> None:
    """An entry close in wording but about other clauses (a "personal life" answer to a
    question about an official account) is left out."""
    said = 0
    for _, _, advice in answers:
        entry = adviser.knowledge.entry(advice.entry) if advice.entry else None
        if entry is None or advice.verdict is Verdict.OUT_OF_SCOPE:
            continue
        said += 1
        assert entry.answer in advice.answer
        found = set(advice.clauses) - {"F1", "F2"}  # whom to ask is not what a post is about
        assert not found or found & set(entry.clauses), (advice.entry, advice.clauses)
    assert said > 20


def test_one_quoted_passage_with_two_findings_is_quoted_once() -> None:
    quote = "our MSP is useless"
    reasons = [
        Reason("D13", quote, "a public judgement of a politician", "Drop the opinion."),
        Reason("D11", quote, "a disparaging remark", "Drop the remark."),
    ]
    [line] = reason_lines(reasons)
    assert line.count(quote) == 1
    assert "(D13)" in line
    assert "(D11)" in line
    assert line.endswith("Drop the opinion. Drop the remark.")


def test_compose_names_every_listed_clause_and_asks_the_right_person() -> None:
    notes = {
        "D7": ClauseNote("Posts are public."),
        "F2": ClauseNote("The DCCT can advise."),
        "D4": ClauseNote("Official posts need approval.", "official channels", "Ask the DCCT."),
    }
    text = compose(Verdict.ASK, [], None, [], "dcct", ["D7", "F2"], notes)
    assert "ask the DCCT (Digital Communications and Content Team) before posting (F2)" in text
    assert "Posts are public (D7)." in text
    # A reason that already sends them to the DCCT: no second "ask the DCCT" paragraph.
    reason = Reason("D4", "for the official account", "official channels", "Ask the DCCT.")
    text = compose(Verdict.ASK, [reason], None, [], "dcct", ["D4", "F2"], notes)
    assert "seek early advice" not in text
    assert "The DCCT can advise (F2)." in text
    # An FAQ answer that names the route carries the route's clause itself.
    entry = ("Ask the DCCT first: they approve official posts.", ("D4",))
    text = compose(Verdict.ASK, [], entry, [], "dcct", ["D4", "F2"], notes)
    assert "Ask the DCCT first: they approve official posts. (D4, F2)" in text
    assert text.count("DCCT") == 1


def test_a_fine_post_says_so_and_what_the_policy_allows() -> None:
    notes = {"D5": ClauseNote("You may like and follow official pages.")}
    text = compose(Verdict.OK, [], None, [], "", ["D5"], notes)
    assert text.split("\n\n") == [
        "This looks fine to post.",
        "I can't see anything in this that the policy warns against.",
        "What the policy says: You may like and follow official pages (D5).",
    ]


def test_every_clause_needs_a_note_and_risk_clauses_a_problem() -> None:
    from bot.core import KnowledgeError
    from bot.core.explain import parse_reasons

    with pytest.raises(KnowledgeError) as caught:
        parse_reasons(
            {"clause": {"D13": {"note": "Stay impartial."}, "D1": {"note": "Cite D2 too."}}},
            "reasons.toml",
            {"D1", "D13", "D5"},
        )
    problems = caught.value.problems
    assert "reasons.toml: clause D5 needs a [clause.D5] entry with a 'note'" in problems
    assert any("[clause.D13]: field 'problem' is required" in p for p in problems)
    assert any("[clause.D1]: field 'note' must not cite clause ids" in p for p in problems)
