"""The runbook documents every setting the bot reads, with its real default."""

from __future__ import annotations

import re

from bot.settings import Settings
from tests.conftest import ROOT

RUNBOOK = ROOT / "deploy" / "README.md"
ROW = re.compile(r"^\| `(?P<name>[A-Za-z_][A-Za-z0-9_]*)` \| (?P<default>[^|]*) \|", re.MULTILINE)
SEPARATOR = re.compile(r"^\|(?: *:?-{3,}:? *\|)+\s*$")  # | --- | :---: |


def settings_table() -> dict[str, str]:
    """variable -> default cell, from the runbook's "Every setting" section."""
    text = RUNBOOK.read_text()
    start = text.index("\n## Every setting")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    return {m["name"]: m["default"].strip() for m in ROW.finditer(section)}


def test_every_setting_is_in_the_runbook() -> None:
    text = RUNBOOK.read_text()
    missing = [name for name, _, _ in Settings.describe() if name not in text]
    assert not missing, f"deploy/README.md does not mention: {', '.join(missing)}"


def test_every_setting_has_a_row_in_the_table() -> None:
    table = settings_table()
    described = [name for name, _, _ in Settings.describe()]
    missing = [name for name in described if name not in table]
    assert not missing, (
        f"add to the 'Every setting' table of deploy/README.md: {', '.join(missing)}"
    )
    stale = sorted(set(table) - set(described))
    assert not stale, f"the 'Every setting' table lists unknown variables: {', '.join(stale)}"


def test_table_defaults_match_the_code() -> None:
    table = settings_table()
    wrong = []
    for name, default, _ in Settings.describe():
        expected = f"`{default}`" if default else "(empty)"
        if table.get(name) != expected:
            wrong.append(f"{name}: runbook says {table.get(name)!r}, code says {expected!r}")
    assert not wrong, "defaults in deploy/README.md are out of date:\n" + "\n".join(wrong)


def broken_tables(text: str) -> list[str]:
    """Rows that Markdown shows as plain text: a run of `|` lines not opened by a header
    and a `| --- |` line, e.g. the rows after a blank line inside a table."""
    lines = text.splitlines()
    broken = []
    for i, line in enumerate(lines):
        opens_run = line.startswith("|") and (i == 0 or not lines[i - 1].startswith("|"))
        if opens_run and not (i + 1 < len(lines) and SEPARATOR.match(lines[i + 1])):
            broken.append(f"line {i + 1}: {line[:60]}")
    return broken


def test_every_table_renders_as_one_table() -> None:
    broken = broken_tables(RUNBOOK.read_text())
    assert not broken, (
        "deploy/README.md has table rows outside a table (a blank or other line inside "
        "a table?):\n" + "\n".join(broken)
    )


def test_table_check_finds_a_split_table() -> None:
    table = "| a | b |\n| --- | --- |\n| `X` | 1 |\n"
    assert broken_tables("text\n\n" + table + "\ntext\n") == []
    assert broken_tables(table + "\n| `Y` | 2 |\n") == ["line 5: | `Y` | 2 |"]
    assert broken_tables(table + "some words\n| `Y` | 2 |\n") == ["line 5: | `Y` | 2 |"]
