from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from bot.channels.text.render import Style
from bot.cli import answer_text, ask_jsonl, main, print_settings, server_url
from bot.conversation.labels import VERDICTS
from bot.core import Adviser, Verdict
from bot.settings import Settings
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


def test_ask_answers_small_talk_with_a_friendly_line_not_a_verdict(adviser: Adviser) -> None:
    for text in ("hi", "thanks!", "👍"):
        shown = answer_text(adviser, text, Style())
        assert shown == adviser.advise(text).answer
        assert VERDICTS[Verdict.OUT_OF_SCOPE].badge not in shown
        assert "Policy clauses" not in shown
        assert "From the Social Media policy" not in shown
    question = "Can I post about the Scottish Government's budget on my own account?"
    assert answer_text(adviser, question, Style()).startswith("┃ ")


def test_settings_columns_line_up_whatever_the_length_of_a_default() -> None:
    rows = Settings.describe()
    assert max(len(default) for _, default, _ in rows) > 40, "a long default to align"
    out = io.StringIO()
    print_settings(out)
    lines = [line for line in out.getvalue().splitlines() if line.startswith("  ")]
    assert len(lines) == len(rows)
    for line, (env, default, help_text) in zip(lines, rows, strict=True):
        assert line.split()[0] == env
        said = f"{help_text} (default: {default})" if default else help_text
        assert line.endswith(said)
    helps = {line.index(help_text) for line, (_, _, help_text) in zip(lines, rows, strict=True)}
    assert len(helps) == 1, "every help text starts in the same column"


def test_package_help_shows_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["package", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "(default: dist/teams-app.zip)" in shown
    assert "(default: 1.0.0)" in shown
    assert "(default: https://www.parliament.scot)" in shown


def test_poke_finds_the_server_where_serve_listens() -> None:
    assert server_url(Settings()) == "http://127.0.0.1:3978"
    settings = Settings.from_env({"PORT": "4101", "BOT_HOST": "10.1.2.3"})
    assert server_url(settings) == "http://10.1.2.3:4101"
    anywhere = Settings.from_env({"BOT_HOST": "0.0.0.0", "PORT": "8080"})
    assert server_url(anywhere) == "http://127.0.0.1:8080"
    assert server_url(Settings.from_env({"BOT_HOST": "::1"})) == "http://[::1]:3978"


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
