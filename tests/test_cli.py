from __future__ import annotations

import io
import json
import subprocess
import sys

from bot.cli import ask_jsonl, chat
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


def test_chat_answers_until_quit(adviser: Adviser) -> None:
    out = io.StringIO()
    assert chat(adviser, io.StringIO("hello\nhelp\nquit\n"), out) == 0
    screen = out.getvalue()
    assert "[NOT MY AREA]" in screen
    assert "Commands:" in screen


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
