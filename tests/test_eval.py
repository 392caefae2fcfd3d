"""The labelled dev set through the real CLI, scored by the shared scorer."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core import Adviser, Verdict
from bot.core.evaluation import score_adviser
from bot.core.examples import load_examples
from tests.conftest import KNOWLEDGE, ROOT

EVAL = ROOT.parent / "shared" / "eval"
FLOOR = 80.0


def run_eval(labels: Path, tmp_path: Path) -> str:
    answers = tmp_path / "answers.jsonl"
    with labels.open() as stdin, answers.open("w") as stdout:
        subprocess.run(
            [sys.executable, "-m", "bot", "ask", "--jsonl"],
            stdin=stdin, stdout=stdout, cwd=ROOT, check=True, timeout=120,
        )  # fmt: skip
    scored = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), str(labels), str(answers), "--show-misses"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return scored.stdout


def score_line(report: str) -> tuple[float, int]:
    match = re.search(r"^score ([\d.]+)% .*dangerous (\d+)$", report, re.MULTILINE)
    assert match, report
    return float(match[1]), int(match[2])


@pytest.mark.skipif(
    not (EVAL / "dev.jsonl").exists(), reason="shared/eval is not beside this checkout"
)
def test_dev_set_scores_above_the_floor_with_no_dangerous_ok(tmp_path: Path) -> None:
    report = run_eval(EVAL / "dev.jsonl", tmp_path)
    score, dangerous = score_line(report)
    assert dangerous == 0, report
    assert score >= FLOOR, report
    assert "missing 0  invalid-verdict 0" in report


PROBE = ROOT / "tests" / "data" / "probe.jsonl"
PROBE_FLOOR = 70.0


@pytest.mark.skipif(
    not (EVAL / "score.py").exists(), reason="shared/eval is not beside this checkout"
)
def test_independent_probe_set_generalises_with_no_dangerous_ok(tmp_path: Path) -> None:
    """150 questions written from the policy alone, never used to write the FAQ: a
    stand-in for the held-out set, so a change that only fits the dev set shows here."""
    report = run_eval(PROBE, tmp_path)
    score, dangerous = score_line(report)
    assert dangerous == 0, report
    assert score >= PROBE_FLOOR, report


HELDOUT_FLOOR = 65.0  # measured 67.9% (1,410 examples, 0 dangerous)


def test_own_heldout_split_scores_above_the_floor_with_no_dangerous_ok(adviser: Adviser) -> None:
    """Whole scenario families the judge never saw in training, scored by the same rules."""
    examples, problems = load_examples(KNOWLEDGE, set(adviser.knowledge.clauses))
    assert problems == []
    heldout = [e for e in examples if e.split == "heldout"]
    assert len(heldout) >= 600
    result = score_adviser(adviser, heldout)
    assert result.dangerous == 0, [e.id for e, a in result.misses if a.verdict is Verdict.OK]
    assert result.percent >= HELDOUT_FLOOR, result.line()
