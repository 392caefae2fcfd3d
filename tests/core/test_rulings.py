"""DCCT rulings in the core: a ruled case answers the next case like it, and only that."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from bot.core import Adviser, KnowledgeError, Route, Verdict
from bot.core.judge import Embedder, Judge, Matrix
from bot.core.rulings import (
    MATCH,
    MATCH_GENTLER,
    Ruling,
    load_rulings,
    merge_rulings,
    render_rulings,
    rulings_path,
)

RULED = "Can I share the committee's published report on rural housing on my LinkedIn?"
REWORDED = (
    "Am I allowed to post the rural housing committee report, now it's published, on LinkedIn?"
)
UNPUBLISHED = (
    "Can I share the committee's draft report on rural housing on my LinkedIn before it's "
    "published?"
)
OK_RULING = Ruling(
    id="ruling-0001",
    question=RULED,
    verdict=Verdict.OK,
    clauses=("D2", "D1"),
    route=Route.NONE,
    answer="Yes: a committee report is public once it is published. Share it as it is.",
    ruled_on=date(2026, 3, 3),
    policy_version="sha256:151d76d8fc70",
)


class CountingEmbedder:
    """The real encoder, counting the texts it is asked to embed."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts: list[str] = []

    def encode(self, texts: Sequence[str]) -> Matrix:
        self.texts += texts
        return self.inner.encode(texts)


@pytest.fixture
def fresh(adviser: Adviser) -> Adviser:
    return adviser.fork()


def test_a_reworded_question_gets_the_ruling_and_says_so(fresh: Adviser) -> None:
    before = fresh.advise(REWORDED)
    assert before.verdict is Verdict.CAUTION  # the adviser alone is unsure
    fresh.set_rulings([OK_RULING])
    after = fresh.advise(REWORDED)
    assert after.verdict is Verdict.OK
    assert after.clauses == ("D2", "D1")
    assert after.ruling == "ruling-0001"
    assert "The DCCT ruled on a case like this on 3 March 2026." in after.notes
    assert OK_RULING.answer in after.answer
    assert after.confidence >= MATCH_GENTLER


def test_a_message_with_a_risk_the_ruled_case_lacked_is_not_overridden(fresh: Adviser) -> None:
    fresh.set_rulings([OK_RULING])
    vectors = fresh.judge.embedder.encode([RULED, UNPUBLISHED])
    assert float(vectors[0] @ vectors[1]) > MATCH_GENTLER, "close enough to be ruled on"
    advice = fresh.advise(UNPUBLISHED)
    assert advice.verdict is Verdict.NOT_OK  # the embargo signal sees what the ruling did not
    assert advice.ruling is None
    assert advice.notes == ()


def test_an_unrelated_question_is_untouched_and_a_fork_keeps_its_own_book(
    adviser: Adviser, fresh: Adviser
) -> None:
    question = "Can I put a photo of my dog on Instagram?"
    fresh.set_rulings([OK_RULING])
    assert fresh.advise(question) == adviser.advise(question)
    assert adviser.rulings == ()
    assert adviser.advise(REWORDED).ruling is None


def test_a_stricter_ruling_needs_less_than_a_gentler_one(fresh: Adviser) -> None:
    stricter = replace(OK_RULING, verdict=Verdict.NOT_OK, clauses=("D13",), answer="")
    fresh.set_rulings([stricter])
    advice = fresh.advise(REWORDED)
    assert advice.verdict is Verdict.NOT_OK
    assert advice.clauses == ("D13",)
    assert advice.answer.startswith("Don't post this as it stands.")
    assert MATCH < MATCH_GENTLER


def test_an_ask_ruling_names_whom_to_ask(fresh: Adviser) -> None:
    ask = replace(OK_RULING, verdict=Verdict.ASK, clauses=("D2",), route=Route.DCCT, answer="")
    fresh.set_rulings([ask])
    advice = fresh.advise(REWORDED)
    assert (advice.verdict, advice.route) == (Verdict.ASK, Route.DCCT)
    assert "F2" in advice.clauses


def test_set_rulings_embeds_only_new_questions(adviser: Adviser) -> None:
    counting = CountingEmbedder(adviser.judge.embedder)
    fresh = Adviser(
        adviser.knowledge, adviser.lexicon, Judge(adviser.judge.artefact, counting), adviser.notes
    )
    fresh.set_rulings([OK_RULING])
    second = replace(OK_RULING, id="ruling-0002", question="Can I post my own holiday photos?")
    fresh.set_rulings([OK_RULING, second])
    assert counting.texts == [RULED, second.question]
    fresh.set_rulings([second])
    assert fresh.rulings == (second,)
    assert counting.texts == [RULED, second.question]


def test_merge_keeps_exported_rulings_the_database_does_not_know_and_drops_removed() -> None:
    exported = [OK_RULING, replace(OK_RULING, id="ruling-0002")]
    approved = [replace(OK_RULING, id="ruling-0003"), replace(OK_RULING, answer="newer")]
    merged = merge_rulings(exported, approved, removed=["ruling-0002"])
    assert [r.id for r in merged] == ["ruling-0001", "ruling-0003"]
    assert merged[0].answer == "newer", "the database's copy wins"


def test_the_rulings_file_round_trips_and_names_the_line_and_field(tmp_path: Path) -> None:
    clause_ids = {"D1", "D2", "D9", "F1", "F2"}
    path = rulings_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(render_rulings([OK_RULING]), encoding="utf-8")
    assert load_rulings(tmp_path, clause_ids) == ([OK_RULING], [])
    row = json.loads(path.read_text())
    broken = [
        {**row, "verdict": "info"},
        {**row, "id": "ruling-0002", "clauses": ["D99"]},
        {**row, "id": "ruling-0003", "ruled_on": "3 March"},
        {**row, "id": "ruling-0004", "answer": "x" * 1300},
        {**row, "id": "ruling-0005", "colour": "blue"},
        {**row, "id": "ruling-0006", "verdict": "ask", "clauses": ["D2"], "route": "dcct"},
    ]
    path.write_text("".join(json.dumps(b) + "\n" for b in broken), encoding="utf-8")
    rulings, problems = load_rulings(tmp_path, clause_ids)
    assert rulings == []
    assert problems == [
        "rulings.jsonl:1 'ruling-0001': field 'verdict' must be ok, caution, not_ok or ask",
        "rulings.jsonl:2 'ruling-0002': field 'clauses' cites unknown clause(s) D99",
        "rulings.jsonl:3 'ruling-0003': field 'ruled_on' must be a date like 2026-03-03",
        "rulings.jsonl:4 'ruling-0004': field 'answer' is over 1200 characters",
        "rulings.jsonl:5 'ruling-0005': unknown field 'colour'",
        "rulings.jsonl:6 'ruling-0006': field 'clauses' needs F1 or F2 when the verdict is 'ask'",
    ]


def test_an_adviser_loads_the_exported_rulings_and_refuses_broken_ones(
    tmp_path: Path, adviser: Adviser
) -> None:
    import shutil

    from tests.conftest import KNOWLEDGE

    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy, ignore=shutil.ignore_patterns("examples", "labelling"))
    rulings_path(copy).parent.mkdir()
    rulings_path(copy).write_text(render_rulings([OK_RULING]), encoding="utf-8")
    loaded = Adviser.from_directory(copy, embedder=adviser.judge.embedder)
    assert loaded.rulings == loaded.exported_rulings == (OK_RULING,)
    assert loaded.advise(REWORDED).verdict is Verdict.OK
    rulings_path(copy).write_text('{"id": "ruling-0001"}\n', encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"rulings\.jsonl:1 'ruling-0001': field 'text'"):
        Adviser.from_directory(copy, embedder=adviser.judge.embedder)
