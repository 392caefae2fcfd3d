"""`python -m bot knowledge diff OLD NEW`: what a change of the policy's wording touches.

OLD and NEW are each a knowledge folder (or a folder holding `knowledge/`) or a git
revision of the repository the knowledge lives in (`v1.4.0`, `HEAD~3`, `main`), so a
policy officer can compare the release in use with their edited checkout. The folders
are read leniently: the point is to review a change before the files pass
`knowledge check` again (a new policy text fails it until its hash is recorded).
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
import textwrap
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.core.knowledge import parse_clauses
from bot.core.policy import ClauseDiff, diff_clauses
from bot.core.rulings import Ruling, rulings_path
from bot.core.types import Clause

WIDTH = 100


class DiffError(Exception):
    """OLD or NEW could not be read; the message says which and why."""


@dataclass
class Snapshot:
    """The parts of one version of the knowledge that cite clauses."""

    label: str
    folder: Path
    clauses: dict[str, Clause]
    policy_version: str
    faq: dict[str, tuple[str, ...]] = field(default_factory=dict)  # id -> clauses
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    signals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    reasons: set[str] = field(default_factory=set)
    rulings: dict[str, tuple[str, ...]] = field(default_factory=dict)


def _clause_list(value: Any) -> tuple[str, ...]:
    return tuple(c for c in value if isinstance(c, str)) if isinstance(value, list) else ()


def _toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}  # broken files are `knowledge check`'s to report, not the diff's


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return
    for line in lines:
        try:
            row = json.loads(line) if line.strip() else None
        except json.JSONDecodeError:
            continue
        if isinstance(row, dict):
            yield row


def read_snapshot(folder: Path, label: str) -> Snapshot:
    register = folder / "clauses.md"
    try:
        clauses, _ = parse_clauses(register.read_text(encoding="utf-8"), str(register))
    except OSError as exc:
        raise DiffError(f"{label}: cannot read {register} ({exc.strerror})") from exc
    try:
        digest = hashlib.sha256((folder / "policy" / "source.txt").read_bytes()).hexdigest()
        version = f"sha256:{digest[:12]}"
    except OSError:
        version = "unknown"
    snap = Snapshot(label, folder, clauses, version)
    for path in sorted((folder / "faq").glob("*.toml")):
        for raw in _toml(path).get("entry", []):
            if isinstance(raw, dict):
                snap.faq[str(raw.get("id", "?"))] = _clause_list(raw.get("clauses"))
    for path in sorted((folder / "examples").glob("*.jsonl")):
        for row in _jsonl(path):
            snap.examples[str(row.get("id", "?"))] = _clause_list(row.get("clauses"))
    for raw in _toml(folder / "signals.toml").get("signal", []):
        if isinstance(raw, dict):
            snap.signals[str(raw.get("name", "?"))] = _clause_list(raw.get("clauses"))
    table = _toml(folder / "reasons.toml").get("clause", {})
    snap.reasons = set(table) if isinstance(table, dict) else set()
    for row in _jsonl(rulings_path(folder)):
        snap.rulings[f"{row.get('id', '?')} (exported)"] = _clause_list(row.get("clauses"))
    return snap


def materialise(ref: str, repository: Path, scratch: Path) -> Path:
    """The knowledge folder `ref` names: a folder, a folder with knowledge/ in it, or the
    knowledge/ folder at git revision `ref` of the repository around `repository`."""
    path = Path(ref)
    for candidate in (path, path / "knowledge"):
        if (candidate / "clauses.md").is_file():
            return candidate
    try:
        top = _git(repository, "rev-parse", "--show-toplevel").decode().strip()
        prefix = _git(repository, "rev-parse", "--show-prefix").decode().strip() or "knowledge/"
        _git(Path(top), "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
        archive = _git(Path(top), "archive", "--format=tar", ref, prefix)
    except DiffError as exc:
        raise DiffError(
            f"'{ref}' is neither a knowledge folder nor a git revision of the repository "
            f"at {repository} ({exc})"
        ) from exc
    target = scratch / hashlib.sha256(ref.encode()).hexdigest()[:12]
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target / prefix


def _git(where: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(  # noqa: S603 - fixed arguments, no shell
            ["git", "-C", str(where), *args],  # noqa: S607 - git from PATH, as a developer runs it
            capture_output=True,
            check=False,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiffError(f"git could not run: {exc}") from exc
    if done.returncode != 0:
        raise DiffError(done.stderr.decode(errors="replace").strip() or "git failed")
    return done.stdout


@dataclass(frozen=True)
class Citations:
    faq: list[str]
    examples: list[str]
    signals: list[str]
    reasons: bool
    rulings: list[str]

    @property
    def count(self) -> int:
        return len(self.faq) + len(self.examples) + len(self.signals) + len(self.rulings)


def citations(snap: Snapshot, clause: str, stored: Iterable[Ruling] = ()) -> Citations:
    def citing(table: dict[str, tuple[str, ...]]) -> list[str]:
        return [key for key, cited in table.items() if clause in cited]

    rulings = citing(snap.rulings)
    rulings += [
        f"{r.id} (in the database, ruled {r.ruled_on})" for r in stored if clause in r.clauses
    ]
    return Citations(
        citing(snap.faq),
        citing(snap.examples),
        citing(snap.signals),
        clause in snap.reasons,
        rulings,
    )


def report(old: Snapshot, new: Snapshot, out: TextIO, stored: Iterable[Ruling] = ()) -> ClauseDiff:
    stored = list(stored)
    diff = diff_clauses(old.clauses, new.clauses)
    out.write(f"policy {old.policy_version} ({old.label}) -> {new.policy_version} ({new.label})\n")
    if not diff.changed and not diff.added and not diff.removed:
        out.write("no clause changed its wording\n")
        return diff
    out.write(f"clauses whose wording changed: {', '.join(diff.changed) or 'none'}\n")
    for cid in diff.changed:
        out.write(_wrapped(f"  {cid} was: ", old.clauses[cid].text))
        out.write(_wrapped(f"  {cid} now: ", new.clauses[cid].text))
    out.write(f"clauses added: {', '.join(diff.added) or 'none'}; ")
    out.write(f"removed: {', '.join(diff.removed) or 'none'}\n")
    for cid in diff.touched:
        cited = citations(new, cid, stored)
        out.write(f"\nwhat cites {cid} in {new.label} ({cited.count} to review):\n")
        for name, items in (
            ("FAQ entries", cited.faq),
            ("examples", cited.examples),
            ("risk signals", cited.signals),
            ("rulings", cited.rulings),
        ):
            out.write(_wrapped(f"  {name} ({len(items)}): ", ", ".join(items) or "none"))
        if cited.reasons:
            out.write(f"  reasons.toml: [clause.{cid}] explains it\n")
    return diff


def _wrapped(lead: str, body: str) -> str:
    lines = textwrap.wrap(
        body,
        WIDTH,
        initial_indent=lead,
        subsequent_indent=" " * len(lead),
        break_on_hyphens=False,
        break_long_words=False,
    )
    return "\n".join(lines or [lead.rstrip()]) + "\n"
