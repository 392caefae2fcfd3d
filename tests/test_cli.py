from __future__ import annotations

import io
import json
import subprocess
import sys

from bot.cli import ask_jsonl
from bot.conversation.labels import VERDICTS
from bot.core import Adviser, Verdict
from tests.conftest import ROOT


def test_jsonl_answers_every_line_and_reports_bad_ones(adviser: Adviser) -> None:
    lines = [
        json.dumps({"id": "q1", "text": "hello", "verdict": "ignored"}),
        "{not json",
        json.dumps({"id": "q3", "text": ""}),
        "",
        json.dumps(["a list"]),
        json.dumps({"id": "q6", "text": "good morning"}),
    ]
    out = io.StringIO()
    status = ask_jsonl(adviser, lines, out)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert status == 1
    assert [r["id"] for r in rows] == ["q1", "line 2", "q3", "line 5", "q6"]
    assert set(rows[0]) == {
        "id", "verdict", "clauses", "entry", "confidence", "route", "answer", "policy_version"
    }  # fmt: skip
    assert "error" in rows[1]
    assert "error" in rows[2]
    assert "error" in rows[3]
    assert rows[4]["verdict"] == Verdict.OUT_OF_SCOPE


def test_jsonl_exit_zero_when_all_lines_are_good(adviser: Adviser) -> None:
    assert ask_jsonl(adviser, ['{"id": 1, "text": "hi"}'], io.StringIO()) == 0


def test_jsonl_answers_carry_the_policy_version(adviser: Adviser) -> None:
    out = io.StringIO()
    ask_jsonl(adviser, ['{"id": 1, "text": "can i post a selfie at my desk?"}'], out)
    assert json.loads(out.getvalue())["policy_version"] == adviser.knowledge.policy_version


def test_ask_prints_the_answer_card_as_the_terminal_shows_it(adviser: Adviser) -> None:
    question = "Can I post about the Scottish Government's budget on my own account?"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", question],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    advice = adviser.advise(question)
    assert done.stdout.startswith("┃ " + VERDICTS[advice.verdict].badge)
    wording = adviser.knowledge.clauses[advice.clauses[0]].text
    assert wording in " ".join(done.stdout.split()), "the clause wording is shown"
    assert "[Ask my line manager]" in done.stdout
    assert "confidence" not in done.stdout


def test_module_entry_point_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "hello"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert json.loads(done.stdout)["verdict"] == "out_of_scope"


def test_broken_knowledge_is_a_clear_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--knowledge", str(tmp_path), "ask", "hi"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert done.returncode == 2
    assert "clauses.md: cannot read the clause register" in done.stderr
    assert "Traceback" not in done.stderr
