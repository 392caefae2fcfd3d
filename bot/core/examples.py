"""The labelled example corpus (knowledge/examples/*.jsonl): load, validate, hash.

The corpus is what the judge learns from, so it is checked like every other knowledge
file: each problem names the file, the line, the example id and the field. The split
is by family (a scenario and its variants), never by message, so that held-out
examples have no near-twins in training.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

from bot.core.knowledge import parse_route
from bot.core.types import Route, Verdict

EXAMPLE_ID = re.compile(r"^[a-z][a-z0-9]*-[a-z0-9-]+$")
FAMILY_ID = re.compile(r"^[a-z][a-z0-9-]{2,80}$")
KINDS = frozenset(
    {"direct", "colloquial", "typo", "draft", "multi", "borderline", "official"}
    | {"adversarial", "info", "oos"}
)
SPLITS = frozenset({"train", "heldout"})
FIELDS = ("id", "text", "verdict", "alt", "clauses", "route", "kind", "family", "split")
MAX_CLAUSES = 4
MAX_TEXT = 4000


@dataclass(frozen=True)
class Example:
    id: str
    text: str
    verdict: Verdict
    alt: tuple[Verdict, ...]
    clauses: tuple[str, ...]
    route: Route
    kind: str
    family: str
    split: str
    source: str = ""

    @property
    def accepted(self) -> frozenset[Verdict]:
        return frozenset((self.verdict, *self.alt))

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "text": self.text,
            "verdict": self.verdict.value,
            "alt": [a.value for a in self.alt],
            "clauses": list(self.clauses),
            "route": self.route.value,
            "kind": self.kind,
            "family": self.family,
            "split": self.split,
        }


def _verdict(value: Any) -> Verdict | None:
    try:
        return Verdict(value)
    except ValueError:
        return None


def validate_example(
    raw: Any, where: str, clause_ids: set[str]
) -> tuple[Example | None, list[str]]:
    """Check one corpus line; return it (or None) and every problem found."""
    if not isinstance(raw, dict):
        return None, [f"{where}: a line must be a JSON object"]
    label = f"{where} '{raw.get('id', '?')}'"
    problems = [f"{label}: unknown field '{k}'" for k in sorted(set(raw) - set(FIELDS))]
    problems += [f"{label}: field '{k}' is missing" for k in FIELDS if k not in raw]
    ident, text = raw.get("id"), raw.get("text")
    if not isinstance(ident, str) or not EXAMPLE_ID.match(ident):
        problems.append(f"{label}: field 'id' must look like 'slice-0001'")
    if not isinstance(text, str) or not text.strip():
        problems.append(f"{label}: field 'text' must be a non-empty string")
    elif len(text) > MAX_TEXT:
        problems.append(f"{label}: field 'text' is over {MAX_TEXT} characters")
    verdict = _verdict(raw.get("verdict"))
    if verdict is None:
        problems.append(
            f"{label}: field 'verdict' must be one of {', '.join(v.value for v in Verdict)}"
        )
    alt_raw = raw.get("alt", [])
    alts = [_verdict(a) for a in alt_raw] if isinstance(alt_raw, list) else [None]
    if any(a is None for a in alts):
        problems.append(f"{label}: field 'alt' must be a list of verdicts")
    elif verdict in alts:
        problems.append(f"{label}: field 'alt' repeats the verdict")
    clauses = raw.get("clauses", [])
    if not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses):
        problems.append(f"{label}: field 'clauses' must be a list of clause ids")
        clauses = []
    if unknown := [c for c in clauses if c not in clause_ids]:
        problems.append(f"{label}: field 'clauses' cites unknown clause(s) {', '.join(unknown)}")
    if len(clauses) > MAX_CLAUSES:
        problems.append(f"{label}: field 'clauses' lists more than {MAX_CLAUSES}")
    if verdict is Verdict.OUT_OF_SCOPE and clauses:
        problems.append(f"{label}: field 'clauses' must be empty for out_of_scope")
    if verdict not in (None, Verdict.OUT_OF_SCOPE) and not clauses:
        problems.append(f"{label}: field 'clauses' is empty; only out_of_scope may cite none")
    if verdict is Verdict.ASK and not {"F1", "F2"} & set(clauses):
        problems.append(f"{label}: field 'clauses' needs F1 or F2 when the verdict is 'ask'")
    route = parse_route(raw.get("route", ""), label, problems)
    wants_route = verdict is Verdict.ASK or Verdict.ASK in alts
    if wants_route and route is Route.NONE:
        problems.append(f"{label}: field 'route' is required when 'ask' is the verdict or an alt")
    if not wants_route and route is not Route.NONE:
        problems.append(f"{label}: field 'route' must be empty unless 'ask' is possible")
    kind, family, split = raw.get("kind"), raw.get("family"), raw.get("split")
    if kind not in KINDS:
        problems.append(f"{label}: field 'kind' must be one of {', '.join(sorted(KINDS))}")
    if not isinstance(family, str) or not FAMILY_ID.match(family):
        problems.append(f"{label}: field 'family' must be lower-case words joined by '-'")
    if split not in SPLITS:
        problems.append(f"{label}: field 'split' must be 'train' or 'heldout'")
    if problems or verdict is None:
        return None, problems
    return (
        Example(
            id=str(ident),
            text=str(text),
            verdict=verdict,
            alt=tuple(a for a in alts if a is not None),
            clauses=tuple(clauses),
            route=route,
            kind=str(kind),
            family=str(family),
            split=str(split),
            source=where.split(":")[0],
        ),
        [],
    )


class Identified(Protocol):
    @property
    def id(self) -> str: ...


Item = TypeVar("Item", bound=Identified)
Validator = Callable[[Any, str], tuple[Item | None, list[str]]]


def read_jsonl(
    path: Path, validate: Validator[Item], seen: dict[str, str]
) -> tuple[list[tuple[str, Item]], list[str]]:
    """Each valid entry of one JSON-lines knowledge file with where it is ("file:line"),
    and every problem, each naming the file, the line, the entry's id and the field.

    `seen` maps the ids already read (across files) to where: a repeat is a problem.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read: {exc}"]
    entries: list[tuple[str, Item]] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{where}: not valid JSON: {exc.msg} at column {exc.colno}")
            continue
        entry, found = validate(raw, where)
        problems += found
        if entry is None:
            continue
        if entry.id in seen:
            problems.append(f"{where} '{entry.id}': field 'id' repeats {seen[entry.id]}")
            continue
        seen[entry.id] = where
        entries.append((where, entry))
    return entries, problems


def example_files(directory: Path) -> list[Path]:
    return sorted((directory / "examples").glob("*.jsonl"))


def load_examples(directory: Path, clause_ids: set[str]) -> tuple[list[Example], list[str]]:
    """Every example under `directory/examples`, and every problem (ids, families, splits)."""
    examples: list[Example] = []
    problems: list[str] = []
    seen: dict[str, str] = {}
    family_split: dict[str, tuple[str, str]] = {}
    for path in example_files(directory):
        entries, found = read_jsonl(
            path, lambda raw, where: validate_example(raw, where, clause_ids), seen
        )
        problems += found
        for where, example in entries:
            first = family_split.setdefault(example.family, (example.split, where))
            if first[0] != example.split:
                problems.append(
                    f"{where} '{example.id}': field 'split' is {example.split!r} but family "
                    f"'{example.family}' is {first[0]!r} at {first[1]}: split whole families"
                )
            examples.append(example)
    return examples, problems


def corpus_digest(texts: Iterable[bytes]) -> str:
    """SHA-256 over the bytes that training reads, in order: the judge's staleness stamp."""
    digest = hashlib.sha256()
    for chunk in texts:
        digest.update(hashlib.sha256(chunk).digest())
    return digest.hexdigest()
