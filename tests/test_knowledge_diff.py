"""Policy versions for the policy officer: `knowledge diff` flags everything that cites a
reworded clause (FAQ, examples, signals, exported and stored rulings), `--record` puts
the change under review, answers say so until `knowledge reviewed`; `knowledge export`
refuses what it cannot do safely."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import re
import shutil
import subprocess
import tomllib
from argparse import Namespace
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot import knowledge_cli
from bot.core import Adviser
from bot.core.policy import CHANGES_FILE
from bot.core.rulings import rulings_path
from bot.core.types import Route, Verdict
from bot.store.proposals import Proposal, ProposalStatus, ProposalStore
from bot.store.sqlite import SqliteDatabase
from tests.conftest import KNOWLEDGE
from tests.core.test_rulings import OK_RULING

D13_OLD = "Consider the duty of political impartiality at all times"
D13_NEW = "Observe the duty of political impartiality at all times"
POLITICAL = "Can I tweet that I'll be voting for the SNP at the next election?"


@pytest.fixture(scope="module")
def changed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped knowledge with D13 reworded, its new policy text recorded, one exported
    ruling citing D13 and one not."""
    copy = tmp_path_factory.mktemp("new") / "knowledge"
    shutil.copytree(KNOWLEDGE, copy, ignore=shutil.ignore_patterns("labelling", "judge"))
    shutil.copytree(KNOWLEDGE / "judge", copy / "judge")
    register = copy / "clauses.md"
    text = register.read_text(encoding="utf-8")
    assert D13_OLD in text
    register.write_text(text.replace(D13_OLD, D13_NEW), encoding="utf-8")
    source = copy / "policy" / "source.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\nAmended.\n", encoding="utf-8")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    version = copy / "policy" / "version.toml"
    version.write_text(
        re.sub(r'sha256 = "[0-9a-f]+"', f'sha256 = "{digest}"', version.read_text()),
        encoding="utf-8",
    )
    rulings_path(copy).parent.mkdir()
    exported = replace(OK_RULING, id="ruling-0005")
    citing = replace(OK_RULING, id="ruling-0007", verdict=Verdict.NOT_OK, clauses=("D13",))
    rulings_path(copy).write_text(
        "".join(json.dumps(r.to_json()) + "\n" for r in (exported, citing)), encoding="utf-8"
    )
    return copy


def stored_ruling_database(path: Path) -> Path:
    async def write() -> None:
        db = SqliteDatabase(path)
        await db.open()
        store = ProposalStore(db)
        when = datetime(2026, 2, 2, 12, tzinfo=UTC)
        proposal = await store.create(
            Proposal(0, 4, ProposalStatus.PENDING, "Can I like a party's post?", Verdict.CAUTION,
                     ("D13", "D5"), Route.NONE, "", "Dana", "aad-d", when, "sha256:151d76d8fc70")
        )  # fmt: skip
        await store.decide(proposal.id, ProposalStatus.APPROVED, by_name="Eilidh",
                           by_aad="aad-e", at=when, only_if=(ProposalStatus.PENDING,))  # fmt: skip
        await db.close()

    asyncio.run(write())
    return path


def diff_args(old: str, new: str | None, **extra: object) -> Namespace:
    values = {"record": False, "date": None, "database": None, **extra}
    return Namespace(old=old, new=new, **values)


def test_a_reworded_clause_flags_every_entry_that_cites_it(changed: Path, tmp_path: Path) -> None:
    database = stored_ruling_database(tmp_path / "bot.sqlite3")
    out = io.StringIO()
    args = diff_args(str(KNOWLEDGE), str(changed), database=database)
    assert knowledge_cli.diff_knowledge(changed, args, out) == 0
    report = out.getvalue()
    assert "clauses whose wording changed: D13\n" in report
    assert f"D13 was: {D13_OLD}" in report
    assert f"D13 now: {D13_NEW}" in report
    flagged = " ".join(report.split("what cites D13")[1].split())  # unwrapped

    faq = {
        str(entry["id"])
        for path in (changed / "faq").glob("*.toml")
        for entry in tomllib.loads(path.read_text())["entry"]
        if "D13" in entry["clauses"]
    }
    examples = [
        str(row["id"])
        for path in sorted((changed / "examples").glob("*.jsonl"))
        for row in map(json.loads, path.read_text().splitlines())
        if "D13" in row["clauses"]
    ]
    assert faq
    assert examples
    listed_faq = flagged.split(f"FAQ entries ({len(faq)}): ")[1].split(" examples (")[0]
    assert set(listed_faq.split(", ")) == faq
    listed = flagged.split(f"examples ({len(examples)}): ")[1].split(" risk signals")[0]
    assert listed.split(", ") == examples
    assert "risk signals (" in flagged
    assert "ruling-0007 (exported)" in flagged
    assert "ruling-0001 (in the database, ruled 2026-02-02)" in flagged
    assert "ruling-0005" not in flagged, "that exported ruling does not cite D13"
    assert "reasons.toml: [clause.D13] explains it" in flagged


def test_a_recorded_change_notes_answers_until_it_is_reviewed(
    changed: Path, adviser: Adviser
) -> None:
    out = io.StringIO()
    args = diff_args(str(KNOWLEDGE), str(changed), record=True, date=date(2026, 3, 3))
    assert knowledge_cli.diff_knowledge(changed, args, out) == 0
    assert "recorded in" in out.getvalue()
    recorded = tomllib.loads((changed / CHANGES_FILE).read_text())
    [change] = recorded["change"]
    assert change["clauses"] == ["D13"]
    assert change["changed_on"] == date(2026, 3, 3)
    assert "reviewed_on" not in change

    note = "The policy changed on 3 March 2026; this answer is being reviewed."
    advice = Adviser.from_directory(changed, embedder=adviser.judge.embedder).advise(POLITICAL)
    assert "D13" in advice.clauses
    assert note in advice.notes
    assert note not in adviser.advise(POLITICAL).notes, "the shipped policy did not change"

    out = io.StringIO()
    assert knowledge_cli.mark_reviewed(changed, "sha256:nope", date(2026, 3, 9), out) == 1
    assert "no change sha256:nope" in out.getvalue()
    version = change["version"]
    assert knowledge_cli.mark_reviewed(changed, version, date(2026, 3, 9), io.StringIO()) == 0
    advice = Adviser.from_directory(changed, embedder=adviser.judge.embedder).advise(POLITICAL)
    assert note not in advice.notes


def test_git_revisions_can_be_compared(changed: Path) -> None:
    inside = subprocess.run(
        ["git", "-C", str(KNOWLEDGE), "rev-parse", "HEAD:knowledge/clauses.md"],
        capture_output=True, check=False,
    )  # fmt: skip
    if inside.returncode != 0:
        pytest.skip("not a git checkout with knowledge/ committed")
    out = io.StringIO()
    assert knowledge_cli.diff_knowledge(KNOWLEDGE, diff_args("HEAD", str(changed)), out) == 0
    assert "clauses whose wording changed: D13" in out.getvalue()
    out = io.StringIO()
    assert knowledge_cli.diff_knowledge(KNOWLEDGE, diff_args("no-such-rev", None), out) == 2
    assert "'no-such-rev' is neither a knowledge folder nor a git revision" in out.getvalue()


def test_export_needs_a_database_and_never_overwrites_a_broken_file(
    changed: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "knowledge"
    shutil.copytree(changed, copy)
    out = io.StringIO()
    assert knowledge_cli.export_rulings(copy, tmp_path / "missing.sqlite3", out) == 1
    assert "no database at" in out.getvalue()
    rulings_path(copy).write_text('{"id": "ruling-0001", "text": ""}\n', encoding="utf-8")
    database = stored_ruling_database(tmp_path / "bot.sqlite3")
    out = io.StringIO()
    assert knowledge_cli.export_rulings(copy, database, out) == 1
    assert "rulings.jsonl:1 'ruling-0001': field 'text'" in out.getvalue()
    assert rulings_path(copy).read_text() == '{"id": "ruling-0001", "text": ""}\n'
    rulings_path(copy).unlink()
    assert knowledge_cli.export_rulings(copy, database, io.StringIO()) == 0
    [line] = rulings_path(copy).read_text().splitlines()
    assert json.loads(line)["clauses"] == ["D13", "D5"]
