"""The runbook documents every setting the bot reads, with its real default."""

from __future__ import annotations

import re

from bot.settings import Settings
from tests.conftest import ROOT

RUNBOOK = ROOT / "deploy" / "README.md"
ROW = re.compile(r"^\| `(?P<name>[A-Za-z_][A-Za-z0-9_]*)` \| (?P<default>[^|]*) \|", re.MULTILINE)


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
