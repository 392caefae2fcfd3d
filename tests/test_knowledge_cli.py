"""`python -m bot knowledge …`: the policy officer's tools name every problem and change
only what they say they change."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest

from bot import knowledge_cli
from tests.conftest import KNOWLEDGE


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, target)
    return target


def test_check_passes_on_the_shipped_knowledge() -> None:
    out = io.StringIO()
    assert knowledge_cli.check(KNOWLEDGE, out) == 0
    assert out.getvalue().startswith("knowledge OK:")
    assert "judge trained on these files" in out.getvalue()


def test_check_names_the_file_line_and_field_of_a_broken_example(copy: Path) -> None:
    path = copy / "examples" / "sec.jsonl"
    lines = path.read_text().splitlines()
    row = json.loads(lines[4])
    row["clauses"] = "D9"
    lines[4] = json.dumps(row)
    path.write_text("\n".join(lines) + "\n")
    out = io.StringIO()
    assert knowledge_cli.check(copy, out) == 1
    report = out.getvalue()
    assert f"sec.jsonl:5 '{row['id']}': field 'clauses' must be a list of clause ids" in report
    assert "stale" in report  # and the judge no longer matches the corpus


def test_check_names_a_broken_signal(copy: Path) -> None:
    signals = copy / "signals.toml"
    signals.write_text(signals.read_text().replace('"door codes?", ', '"door codes?", "(", ', 1))
    out = io.StringIO()
    assert knowledge_cli.check(copy, out) == 1
    assert "signal #1 'security-detail'" in out.getvalue()


def test_split_puts_new_examples_with_their_family_or_by_hash(copy: Path) -> None:
    path = copy / "examples" / "sec.jsonl"
    known = json.loads(path.read_text().splitlines()[0])
    fresh = [
        {**known, "id": "sec-9001", "split": ""},  # an existing family keeps its split
        {**known, "id": "sec-9002", "family": "sec-brand-new-scenario", "split": ""},
        {**known, "id": "sec-9003", "family": "sec-brand-new-scenario", "split": ""},
    ]
    with path.open("a") as f:
        f.writelines(json.dumps(r) + "\n" for r in fresh)
    before = path.read_text().splitlines()[:-3]
    out = io.StringIO()
    assert knowledge_cli.assign_splits(copy, out) == 0
    assert out.getvalue() == "assigned a split to 3 example(s)\n"
    after = path.read_text().splitlines()
    assert [json.loads(x) for x in after[:-3]] == [json.loads(x) for x in before]
    added = [json.loads(x) for x in after[-3:]]
    assert added[0]["split"] == known["split"]
    assert added[1]["split"] == added[2]["split"] in ("train", "heldout")


def test_agreement_counts_compatible_and_identical_verdicts(tmp_path: Path) -> None:
    first = [
        {"id": "a-1", "verdict": "ok", "alt": ["caution"], "clauses": ["D14"]},
        {"id": "a-2", "verdict": "not_ok", "alt": [], "clauses": ["D9"]},
        {"id": "a-3", "verdict": "ask", "alt": [], "clauses": ["F1"]},
        {"id": "a-4", "verdict": "ok", "alt": [], "clauses": ["D14"]},
    ]
    second = [
        {"id": "a-1", "verdict": "caution", "alt": [], "clauses": ["D12"]},  # compatible
        {"id": "a-2", "verdict": "not_ok", "alt": [], "clauses": ["D9"]},  # identical
        {"id": "a-3", "verdict": "ok", "alt": [], "clauses": ["F1"]},  # incompatible
        {"id": "a-4", "verdict": "ok", "alt": [], "clauses": ["D1"]},  # identical
    ]
    for name, rows in (("first", first), ("second", second)):
        folder = tmp_path / "labelling" / name
        folder.mkdir(parents=True)
        (folder / "a.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = io.StringIO()
    assert knowledge_cli.agreement(tmp_path, out) == 0
    line = out.getvalue().splitlines()[-1]
    assert line.startswith("all          4 double-labelled")
    assert "compatible verdicts  75.0%" in line
    assert "same verdict  50.0%" in line
    assert "a shared clause  50.0%" in line
