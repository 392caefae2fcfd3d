"""Policy versions: which clauses a change of the policy touched, and whether it is reviewed.

A change is recorded in knowledge/policy/changes.toml (by `knowledge diff … --record`);
until someone records that they reviewed the FAQ entries, examples and rulings citing
its clauses, every answer relying on one of them says the policy changed and that the
answer is being reviewed. Pure: files in, values out.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from bot.core.types import Clause, PolicyChange

CHANGES_FILE = Path("policy") / "changes.toml"
VERSION = re.compile(r"^sha256:[0-9a-f]{12}$")
CHANGE_FIELDS = {"version", "changed_on", "clauses", "reviewed_on"}
HEADER = """\
# Changes of the policy's wording, newest last. Written by
# `python -m bot knowledge diff OLD NEW --record`. Until `reviewed_on` is set (by
# `python -m bot knowledge reviewed VERSION`, or by hand), answers citing these clauses
# say that the policy changed and that the answer is being reviewed.
"""


def long_date(day: date) -> str:
    """3 March 2026: how dates read in an answer."""
    return f"{day.day} {day:%B %Y}"


def review_note(change: PolicyChange) -> str:
    return f"The policy changed on {long_date(change.changed_on)}; this answer is being reviewed."


def parse_changes(
    data: Any, path: str, clause_ids: set[str]
) -> tuple[tuple[PolicyChange, ...], list[str]]:
    raw_changes = data.get("change", []) if isinstance(data, dict) else None
    if not isinstance(raw_changes, list):
        return (), [f"{path}: expected [[change]] tables"]
    problems: list[str] = []
    changes: list[PolicyChange] = []
    for number, raw in enumerate(raw_changes, start=1):
        where = f"{path} change #{number}"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a table")
            continue
        found = [f"{where}: unknown field '{k}'" for k in sorted(set(raw) - CHANGE_FIELDS)]
        version, changed_on = raw.get("version"), raw.get("changed_on")
        clauses, reviewed_on = raw.get("clauses"), raw.get("reviewed_on")
        if not isinstance(version, str) or not VERSION.match(version):
            found.append(f"{where}: field 'version' must look like 'sha256:0123456789ab'")
        if not isinstance(changed_on, date):
            found.append(f"{where}: field 'changed_on' must be a date, e.g. 2026-03-03")
        if (
            not isinstance(clauses, list)
            or not clauses
            or not all(isinstance(c, str) for c in clauses)
        ):
            found.append(f"{where}: field 'clauses' must list the clause ids that changed")
            clauses = []
        elif unknown := [c for c in clauses if c not in clause_ids]:
            found.append(f"{where}: field 'clauses' cites unknown clause(s) {', '.join(unknown)}")
        if reviewed_on is not None and not isinstance(reviewed_on, date):
            found.append(f"{where}: field 'reviewed_on' must be a date, or absent until reviewed")
        elif (
            isinstance(reviewed_on, date)
            and isinstance(changed_on, date)
            and reviewed_on < changed_on
        ):
            found.append(f"{where}: field 'reviewed_on' is before 'changed_on'")
        problems += found
        if not found and isinstance(version, str) and isinstance(changed_on, date):
            changes.append(PolicyChange(version, changed_on, tuple(clauses), reviewed_on))
    return tuple(changes), problems


def load_changes(
    directory: Path, clause_ids: set[str]
) -> tuple[tuple[PolicyChange, ...], list[str]]:
    """The recorded changes (none when the file does not exist) and every problem."""
    path = directory / CHANGES_FILE
    if not path.is_file():
        return (), []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return (), [f"{path}: not valid TOML: {exc}"]
    return parse_changes(data, str(path), clause_ids)


def under_review(changes: Iterable[PolicyChange]) -> dict[str, PolicyChange]:
    """Clause id -> the newest unreviewed change of its wording."""
    pending: dict[str, PolicyChange] = {}
    for change in sorted(changes, key=lambda c: c.changed_on):
        if change.under_review:
            for clause in change.clauses:
                pending[clause] = change
    return pending


def render_changes(changes: Sequence[PolicyChange]) -> str:
    """changes.toml as text (tomllib reads; nothing in the standard library writes)."""
    out = [HEADER]
    for change in changes:
        out.append("[[change]]")
        out.append(f'version = "{change.version}"')
        out.append(f"changed_on = {change.changed_on.isoformat()}")
        out.append("clauses = [" + ", ".join(f'"{c}"' for c in change.clauses) + "]")
        if change.reviewed_on is not None:
            out.append(f"reviewed_on = {change.reviewed_on.isoformat()}")
        out.append("")
    return "\n".join(out)


@dataclass(frozen=True)
class ClauseDiff:
    """How the clause register changed between two versions of the knowledge."""

    changed: tuple[str, ...]  # same id, different wording
    added: tuple[str, ...]
    removed: tuple[str, ...]

    @property
    def touched(self) -> tuple[str, ...]:
        """Clauses whose citations need a look: reworded or gone."""
        return (*self.changed, *self.removed)


def diff_clauses(old: dict[str, Clause], new: dict[str, Clause]) -> ClauseDiff:
    def order(ids: Iterable[str]) -> tuple[str, ...]:
        return tuple(sorted(ids, key=lambda c: (c[0], int(c[1:]) if c[1:].isdigit() else 0)))

    def wording(clause: Clause) -> str:
        return " ".join(clause.text.split())

    return ClauseDiff(
        changed=order(c for c in old.keys() & new.keys() if wording(old[c]) != wording(new[c])),
        added=order(new.keys() - old.keys()),
        removed=order(old.keys() - new.keys()),
    )
