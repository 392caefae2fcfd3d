"""The example corpus is knowledge too: validated field by field, split by family, diverse."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from bot.core import load_knowledge
from bot.core.examples import load_examples
from tests.conftest import KNOWLEDGE

CLAUSES = set(load_knowledge(KNOWLEDGE).clauses)
GOOD: dict[str, object] = {
    "id": "test-0001", "text": "Can I post my holiday photos?", "verdict": "ok", "alt": [],
    "clauses": ["D14"], "route": "", "kind": "direct", "family": "test-holiday", "split": "train",
}  # fmt: skip


def write(tmp_path: Path, *rows: dict[str, object] | str) -> Path:
    (tmp_path / "examples").mkdir(exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in rows]
    (tmp_path / "examples" / "batch.jsonl").write_text("\n".join(lines) + "\n")
    return tmp_path


def test_the_shipped_corpus_is_valid_large_and_split_by_family() -> None:
    examples, problems = load_examples(KNOWLEDGE, CLAUSES)
    assert problems == []
    assert len(examples) >= 3000
    held = [e for e in examples if e.split == "heldout"]
    assert len(held) >= 0.2 * len(examples)
    train_families = {e.family for e in examples if e.split == "train"}
    assert not train_families & {e.family for e in held}


def test_no_stock_opening_dominates_the_corpus() -> None:
    examples, _ = load_examples(KNOWLEDGE, CLAUSES)
    openings = Counter(" ".join(re.findall(r"[a-z0-9']+", e.text.lower())[:5]) for e in examples)
    openings.pop("", None)  # an emoji alone has no words
    opening, count = openings.most_common(1)[0]
    assert count <= 0.01 * len(examples), opening


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"verdict": "maybe"}, "field 'verdict' must be one of"),
        ({"clauses": "D9"}, "field 'clauses' must be a list of clause ids"),
        ({"clauses": ["Z1"]}, "unknown clause(s) Z1"),
        ({"verdict": "ask", "clauses": ["D9"], "route": "line_manager"}, "needs F1 or F2"),
        ({"verdict": "ask", "clauses": ["F1"]}, "field 'route' is required"),
        ({"route": "dcct"}, "field 'route' must be empty"),
        ({"alt": ["ok"]}, "field 'alt' repeats the verdict"),
        ({"split": ""}, "field 'split' must be 'train' or 'heldout'"),
        ({"family": "Not A Family"}, "field 'family' must be"),
        ({"text": ""}, "field 'text' must be a non-empty string"),
        ({"colour": "red"}, "unknown field 'colour'"),
    ],
)
def test_a_bad_example_is_named_by_file_line_id_and_field(
    tmp_path: Path, override: dict[str, object], message: str
) -> None:
    _, problems = load_examples(write(tmp_path, {**GOOD, **override}), CLAUSES)
    assert any(p.startswith("batch.jsonl:1 'test-0001'") and message in p for p in problems), (
        problems
    )


def test_broken_json_duplicates_and_split_families_are_reported(tmp_path: Path) -> None:
    other = {**GOOD, "id": "test-0002", "split": "heldout"}
    _, problems = load_examples(write(tmp_path, GOOD, "{not json", GOOD, other), CLAUSES)
    assert any(p.startswith("batch.jsonl:2: not valid JSON") for p in problems), problems
    assert any("batch.jsonl:3 'test-0001': field 'id' repeats batch.jsonl:1" in p for p in problems)
    assert any("family 'test-holiday' is 'train'" in p for p in problems), problems
