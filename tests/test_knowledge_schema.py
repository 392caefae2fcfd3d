"""The knowledge files are data: these tests are their schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.core import KnowledgeError, Verdict, coverage, load_knowledge
from tests.conftest import KNOWLEDGE, ROOT

SHARED_CLAUSES = ROOT.parent / "shared" / "policy" / "clauses.md"
GOOD = """
[[entry]]
id = "good-one"
verdict = "ask"
route = "line_manager"
clauses = ["F1"]
questions = ["one question", "another question", "a third question"]
answer = "Ask your line manager."
"""


def test_shipped_knowledge_is_valid_and_covers_every_clause() -> None:
    knowledge = load_knowledge(KNOWLEDGE)
    assert len(knowledge.entries) >= 80
    assert coverage(knowledge).uncovered == []
    assert {e.verdict for e in knowledge.entries} == set(Verdict)


def test_clause_register_matches_the_shared_one() -> None:
    if not SHARED_CLAUSES.exists():
        pytest.skip("shared/ is not beside this checkout")
    assert (KNOWLEDGE / "clauses.md").read_text() == SHARED_CLAUSES.read_text()


def test_every_clause_id_is_present() -> None:
    ids = set(load_knowledge(KNOWLEDGE).clauses)
    expected = {f"S{i}" for i in range(1, 6)} | {f"D{i}" for i in range(1, 18)} | {"F1", "F2"}
    assert ids == expected


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    shutil.copy(KNOWLEDGE / "clauses.md", tmp_path / "clauses.md")
    shutil.copytree(KNOWLEDGE / "policy", tmp_path / "policy")
    (tmp_path / "faq").mkdir()
    return tmp_path


def problems_for(scratch: Path, text: str) -> list[str]:
    (scratch / "faq" / "broken.toml").write_text(text)
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(scratch)
    return caught.value.problems


def test_a_good_entry_loads(scratch: Path) -> None:
    (scratch / "faq" / "good.toml").write_text(GOOD)
    assert [e.id for e in load_knowledge(scratch).entries] == ["good-one"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (('clauses = ["F1"]', 'clauses = ["F1", "D99"]'), "clauses", "unknown clause(s) D99"),
        (('route = "line_manager"\n', ""), "route", "required when verdict is 'ask'"),
        (('verdict = "ask"', 'verdict = "maybe"'), "verdict", "must be one of"),
        (('"a third question"', ""), "questions", "at least 3"),
        (('answer = "Ask your line manager."', 'answer = ""'), "answer", "missing or empty"),
        (('id = "good-one"', 'id = "Bad Id"'), "id", "lower-case"),
        (('clauses = ["F1"]', 'clauses = ["F1"]\nsources = 1'), "sources", "unknown field"),
    ],
)
def test_a_malformed_entry_is_named_with_file_entry_and_field(
    scratch: Path, change: tuple[str, str], field: str, message: str
) -> None:
    problems = problems_for(scratch, GOOD.replace(*change))
    assert len(problems) == 1, problems
    assert problems[0].startswith("broken.toml entry #1")
    assert f"'{field}'" in problems[0]
    assert message in problems[0]


def test_duplicate_ids_are_refused(scratch: Path) -> None:
    (scratch / "faq" / "a.toml").write_text(GOOD)
    problems = problems_for(scratch, GOOD)
    assert problems == [
        "broken.toml entry #1 'good-one': field 'id' duplicates the entry in a.toml"
    ]


def test_invalid_toml_names_the_file(scratch: Path) -> None:
    problems = problems_for(scratch, "[[entry]\nid=")
    assert len(problems) == 1
    assert "broken.toml: not valid TOML" in problems[0]


def test_changed_policy_text_without_new_hash_is_refused(scratch: Path) -> None:
    (scratch / "faq" / "good.toml").write_text(GOOD)
    with (scratch / "policy" / "source.txt").open("a") as f:
        f.write("\nAn extra sentence.")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(scratch)
    assert "version.toml: field 'sha256'" in caught.value.problems[0]


def test_the_policy_edition_is_in_plain_words() -> None:
    knowledge = load_knowledge(KNOWLEDGE)
    assert knowledge.policy_version.startswith("sha256:")
    assert knowledge.policy_label == (
        "Social Media policy – personal use, SPCB Employee handbook, 25 November 2026"
    )


def test_an_edition_without_a_date_is_refused(scratch: Path) -> None:
    (scratch / "faq" / "good.toml").write_text(GOOD)
    meta = scratch / "policy" / "version.toml"
    meta.write_text(meta.read_text().replace("text_of = 2026-11-25", 'text_of = "last week"'))
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(scratch)
    [problem] = caught.value.problems
    assert "version.toml: field 'text_of' must be a date like 2026-11-25" in problem
