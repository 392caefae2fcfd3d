"""Policy versions in the core: a recorded change marks the answers citing its clauses."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.core import Adviser, KnowledgeError, load_knowledge
from bot.core.policy import (
    CHANGES_FILE,
    diff_clauses,
    load_changes,
    render_changes,
    review_note,
)
from bot.core.types import Clause, PolicyChange
from tests.conftest import KNOWLEDGE

D9_QUESTION = "Can I post the door code for the staff entrance in our team WhatsApp?"
NOTE = "The policy changed on 3 March 2026; this answer is being reviewed."


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target, ignore=shutil.ignore_patterns("examples", "labelling"))
    return target


def test_an_answer_citing_a_changed_clause_says_it_is_being_reviewed(
    copy: Path, adviser: Adviser
) -> None:
    change = PolicyChange("sha256:0123456789ab", date(2026, 3, 3), ("D9",))
    (copy / CHANGES_FILE).write_text(render_changes([change]), encoding="utf-8")
    changed = Adviser.from_directory(copy, embedder=adviser.judge.embedder)
    advice = changed.advise(D9_QUESTION)
    assert "D9" in advice.clauses
    assert advice.notes == (NOTE,)
    assert review_note(change) == NOTE
    other = changed.advise("Can I put a photo of my dog on Instagram?")
    assert "D9" not in other.clauses
    assert other.notes == ()

    reviewed = PolicyChange(change.version, change.changed_on, ("D9",), date(2026, 3, 10))
    (copy / CHANGES_FILE).write_text(render_changes([reviewed]), encoding="utf-8")
    after = Adviser.from_directory(copy, embedder=adviser.judge.embedder)
    assert after.advise(D9_QUESTION).notes == ()


def test_changes_round_trip_and_every_problem_is_named(copy: Path) -> None:
    changes = (
        PolicyChange("sha256:0123456789ab", date(2026, 3, 3), ("D9", "D13")),
        PolicyChange("sha256:ba9876543210", date(2026, 5, 1), ("S1",), date(2026, 5, 2)),
    )
    (copy / CHANGES_FILE).write_text(render_changes(changes), encoding="utf-8")
    assert load_changes(copy, {"D9", "D13", "S1"}) == (changes, [])
    assert load_knowledge(copy).changes == changes
    (copy / CHANGES_FILE).write_text(
        '[[change]]\nversion = "v2"\nchanged_on = 2026-03-03\nclauses = ["D99"]\n'
        "reviewed_on = 2026-03-01\nby = 'me'\n",
        encoding="utf-8",
    )
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(copy)
    where = f"{copy / CHANGES_FILE} change #1"
    assert caught.value.problems == [
        f"{where}: unknown field 'by'",
        f"{where}: field 'version' must look like 'sha256:0123456789ab'",
        f"{where}: field 'clauses' cites unknown clause(s) D99",
        f"{where}: field 'reviewed_on' is before 'changed_on'",
    ]


def test_diff_names_reworded_added_and_removed_clauses() -> None:
    old = {"D1": Clause("D1", "D", "Be kind."), "D2": Clause("D2", "D", "Be  careful.")}
    new = {"D2": Clause("D2", "D", "Be careful."), "D10": Clause("D10", "D", "New."),
           "D3": Clause("D3", "D", "Be brief.")}  # fmt: skip
    new["D1"] = Clause("D1", "D", "Be kind, always.")
    diff = diff_clauses(old, new)
    assert diff.changed == ("D1",), "spacing alone is not a change of wording"
    assert diff.added == ("D3", "D10")
    assert diff.removed == ()
    assert diff_clauses(new, old).removed == ("D3", "D10")
