"""Load and validate the knowledge files: clause register, policy version, curated FAQ.

Every problem names the file, the entry and the field, so that whoever edits the FAQ
can fix it without reading code. All problems are collected, not just the first.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeGuard

from bot.core.policy import load_changes
from bot.core.types import Clause, Entry, Knowledge, Route, Verdict

CLAUSE_LINE = re.compile(r"^- \*\*(?P<id>[A-Z]\d{1,2})\*\* (?P<text>.+)$")
SECTION_LINE = re.compile(r"^## (?P<title>.+?) \((?P<letter>[A-Z])\)$")
ENTRY_ID = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}$")
MIN_QUESTIONS = 3
MAX_ANSWER_CHARS = 1200
ENTRY_FIELDS = {"id", "questions", "verdict", "answer", "clauses", "route", "tags"}


class KnowledgeError(Exception):
    """The knowledge files are broken; `problems` lists every problem found."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("knowledge is invalid:\n  " + "\n  ".join(problems))


@dataclass(frozen=True)
class Coverage:
    entries_per_clause: dict[str, int]

    @property
    def uncovered(self) -> list[str]:
        return [cid for cid, n in self.entries_per_clause.items() if n == 0]


def default_knowledge_dir() -> Path:
    """The repository's knowledge/ in a checkout, else the copy packed into the wheel."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here.parent / "knowledge", here / "_knowledge"):
        if (candidate / "clauses.md").is_file():
            return candidate
    return here.parent / "knowledge"


def parse_clauses(text: str, path: str) -> tuple[dict[str, Clause], list[str]]:
    clauses: dict[str, Clause] = {}
    problems: list[str] = []
    section = ""
    for number, line in enumerate(text.splitlines(), start=1):
        if heading := SECTION_LINE.match(line):
            section = heading["title"]
        elif match := CLAUSE_LINE.match(line):
            cid = match["id"]
            if cid in clauses:
                problems.append(f"{path}:{number}: clause {cid} is defined twice")
            clauses[cid] = Clause(cid, section, match["text"].strip())
    if not clauses:
        problems.append(f"{path}: no clauses found (expected lines like '- **S1** text')")
    return clauses, problems


@dataclass(frozen=True)
class PolicyVersion:
    """Which text the answers come from: the digest for data and logs, words for staff."""

    digest: str  # "sha256:<12 hex>"
    title: str
    label: str  # "Social Media policy – personal use, SPCB Employee handbook, 25 November 2026"


def load_policy_version(directory: Path) -> tuple[PolicyVersion, list[str]]:
    """The policy's version (the source text's SHA-256) and its edition in plain words."""
    source = directory / "policy" / "source.txt"
    meta_path = directory / "policy" / "version.toml"
    problems: list[str] = []
    unknown = PolicyVersion("unknown", "", "")
    try:
        digest = hashlib.sha256(source.read_bytes()).hexdigest()
    except OSError as exc:
        return unknown, [f"{source}: cannot read the policy source text ({exc.strerror})"]
    try:
        meta = tomllib.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        return unknown, [f"{meta_path}: {exc}"]
    recorded = meta.get("sha256")
    if recorded != digest:
        problems.append(
            f"{meta_path}: field 'sha256' is {recorded!r} but {source.name} hashes to {digest}; "
            "the policy text changed: review the FAQ, then record the new hash"
        )
    title = str(meta.get("title", ""))
    text_of = meta.get("text_of")
    if not isinstance(text_of, date):
        problems.append(
            f"{meta_path}: field 'text_of' must be a date like 2026-11-25 (the day this copy "
            "of the policy text was taken; staff see it on every answer)"
        )
    words = [title, str(meta.get("published_in", ""))]
    if isinstance(text_of, date):
        words.append(f"{text_of.day} {text_of:%B %Y}")
    label = ", ".join(w for w in words if w)
    return PolicyVersion(f"sha256:{digest[:12]}", title, label), problems


def parse_route(value: Any, label: str, problems: list[str]) -> Route:
    """A route field, shared by FAQ entries, examples and signals; a bad one is named."""
    try:
        return Route(value)
    except ValueError:
        problems.append(f"{label}: field 'route' must be 'line_manager', 'dcct' or empty")
        return Route.NONE


def _string_list(value: Any) -> TypeGuard[list[str]]:
    return isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)


def validate_entry(raw: Any, where: str, clause_ids: set[str]) -> tuple[Entry | None, list[str]]:
    """Check one FAQ entry; return it (or None) and the problems found."""
    if not isinstance(raw, dict):
        return None, [f"{where}: an entry must be a table"]
    label = f"{where} '{raw.get('id', '?')}'"
    problems = [f"{label}: unknown field '{k}'" for k in sorted(set(raw) - ENTRY_FIELDS)]

    entry_id = raw.get("id")
    if not isinstance(entry_id, str) or not ENTRY_ID.match(entry_id):
        problems.append(f"{label}: field 'id' must be lower-case words joined by '-' (3-64 chars)")
        entry_id = ""
    raw_questions = raw.get("questions")
    questions: list[str] = list(raw_questions) if _string_list(raw_questions) else []
    if len(questions) < MIN_QUESTIONS:
        problems.append(f"{label}: field 'questions' needs at least {MIN_QUESTIONS} paraphrases")
    elif len({q.strip().lower() for q in questions}) != len(questions):
        problems.append(f"{label}: field 'questions' repeats a paraphrase")
    verdict: Verdict | None
    try:
        verdict = Verdict(str(raw.get("verdict")))
    except ValueError:
        problems.append(
            f"{label}: field 'verdict' must be one of {', '.join(v.value for v in Verdict)}"
        )
        verdict = None
    answer = raw.get("answer")
    if not isinstance(answer, str) or not answer.strip():
        answer = ""
        problems.append(f"{label}: field 'answer' is missing or empty")
    if len(answer) > MAX_ANSWER_CHARS:
        problems.append(f"{label}: field 'answer' is over {MAX_ANSWER_CHARS} characters")
    clauses = raw.get("clauses", [])
    if not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses):
        problems.append(f"{label}: field 'clauses' must be a list of clause ids")
        clauses = []
    unknown = [c for c in clauses if c not in clause_ids]
    if unknown:
        problems.append(f"{label}: field 'clauses' cites unknown clause(s) {', '.join(unknown)}")
    if verdict is not None and verdict is not Verdict.OUT_OF_SCOPE and not clauses:
        problems.append(f"{label}: field 'clauses' is empty; only out_of_scope may cite none")
    route = parse_route(raw.get("route", ""), label, problems)
    if verdict is Verdict.ASK and route is Route.NONE:
        problems.append(f"{label}: field 'route' is required when verdict is 'ask'")
    tags = raw.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        problems.append(f"{label}: field 'tags' must be a list of strings")
        tags = []
    if problems or verdict is None:
        return None, problems
    return (
        Entry(
            id=entry_id,
            questions=tuple(q.strip() for q in questions),
            verdict=verdict,
            answer=answer.strip(),
            clauses=tuple(clauses),
            route=route,
            tags=tuple(tags),
            source=where.split(" ")[0],
        ),
        [],
    )


def load_knowledge(directory: Path | str | None = None) -> Knowledge:
    """Load everything under `directory`; raise KnowledgeError listing every problem."""
    directory = Path(directory) if directory else default_knowledge_dir()
    problems: list[str] = []
    register = directory / "clauses.md"
    try:
        clauses, clause_problems = parse_clauses(
            register.read_text(encoding="utf-8"), str(register)
        )
        problems += clause_problems
    except OSError as exc:
        raise KnowledgeError(
            [f"{register}: cannot read the clause register ({exc.strerror})"]
        ) from exc
    version, version_problems = load_policy_version(directory)
    problems += version_problems

    entries: list[Entry] = []
    seen: dict[str, str] = {}
    faq_files = sorted((directory / "faq").glob("*.toml"))
    if not faq_files:
        problems.append(f"{directory / 'faq'}: no FAQ files (*.toml) found")
    for path in faq_files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            problems.append(f"{path}: not valid TOML: {exc}")
            continue
        raw_entries = data.get("entry")
        if not isinstance(raw_entries, list):
            problems.append(f"{path}: expected [[entry]] tables")
            continue
        for index, raw in enumerate(raw_entries, start=1):
            entry, entry_problems = validate_entry(raw, f"{path.name} entry #{index}", set(clauses))
            problems += entry_problems
            if entry is None:
                continue
            if entry.id in seen:
                problems.append(
                    f"{path.name} entry #{index} '{entry.id}': field 'id' duplicates "
                    f"the entry in {seen[entry.id]}"
                )
                continue
            seen[entry.id] = path.name
            entries.append(entry)
    changes, change_problems = load_changes(directory, set(clauses))
    problems += change_problems
    if problems:
        raise KnowledgeError(problems)
    return Knowledge(
        clauses=clauses,
        entries=tuple(entries),
        policy_version=version.digest,
        policy_title=version.title,
        policy_label=version.label,
        changes=changes,
    )


def coverage(knowledge: Knowledge) -> Coverage:
    counts = dict.fromkeys(knowledge.clauses, 0)
    for entry in knowledge.entries:
        for cid in entry.clauses:
            counts[cid] += 1
    return Coverage(counts)
