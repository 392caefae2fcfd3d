"""Risk signals: surface words that make an answer stricter, never more lenient.

The patterns are data (knowledge/signals.toml); this module validates, compiles and runs
them. A signal fires when each of its `all` groups matches somewhere in the message and
no `unless` pattern does. Patterns are regular expressions over the folded message (lower
case, accents and curly quotes straightened; emoji kept), bounded so they match whole
words; a space in a pattern matches any run of spaces or punctuation, and `{name}`
stands for every phrase of the concept `name`.

Each signal carries `fires_on` and `ignores` examples, and loading runs them: a signal
whose patterns stop matching what they were written for fails `knowledge check` instead
of dying silently.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.features import split_sentences
from bot.core.knowledge import KnowledgeError, parse_route
from bot.core.normalise import fold
from bot.core.types import Route

SIGNAL_FIELDS = {
    "name", "severity", "clauses", "problem", "explanation", "route",
    "all", "unless", "fires_on", "ignores",
}  # fmt: skip
NAME = re.compile(r"^[a-z][a-z0-9-]{2,63}$")
CONCEPT_REF = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_SPACES = re.compile(r"\s+")


class Severity(StrEnum):
    NOT_OK = "not_ok"  # the answer is at least "not OK"
    ASK = "ask"  # at least "ask first" (route says whom)
    CAUTION = "caution"  # never "OK" while this fires
    CONTEXT = "context"  # adds a clause to a cautious answer; never changes the verdict
    MANIPULATION = "manipulation"  # the message argues for a yes: "OK" needs more certainty


@dataclass(frozen=True)
class Signal:
    name: str
    severity: Severity
    clauses: tuple[str, ...]
    problem: str
    explanation: str
    route: Route
    groups: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None


@dataclass(frozen=True)
class Hit:
    signal: Signal
    evidence: str  # the words that matched
    quote: str  # the sentence of the message they are in


@dataclass(frozen=True)
class Lexicon:
    concepts: dict[str, tuple[str, ...]]
    signals: tuple[Signal, ...]


def surface(text: str) -> str:
    """What patterns run over: folded, one space between words, punctuation and emoji kept."""
    return _SPACES.sub(" ", fold(text)).strip()


def _expand(
    pattern: str, concepts: dict[str, tuple[str, ...]], where: str, problems: list[str]
) -> str:
    def concept(match: re.Match[str]) -> str:
        name = match[1]
        if name not in concepts:
            problems.append(f"{where}: pattern {pattern!r} names unknown concept '{{{name}}}'")
            return "(?!)"
        return "(?:" + "|".join(concepts[name]) + ")"

    return CONCEPT_REF.sub(concept, pattern).replace(" ", r"[^a-z0-9]+")


def _compile(
    value: Any, concepts: dict[str, tuple[str, ...]], where: str, problems: list[str]
) -> re.Pattern[str] | None:
    if isinstance(value, str) or not isinstance(value, list) or not value:
        problems.append(f'{where}: must be a non-empty list of patterns, like ["door code"]')
        return None
    if not all(isinstance(p, str) and p.strip() for p in value):
        problems.append(f"{where}: every pattern must be a non-empty string")
        return None
    body = "|".join(f"(?:{_expand(p.strip(), concepts, where, problems)})" for p in value)
    try:
        return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")
    except re.error as exc:
        problems.append(f"{where}: bad pattern: {exc}")
        return None


def _concepts(raw: Any, path: str, problems: list[str]) -> dict[str, tuple[str, ...]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.append(f"{path} [concepts]: must be a table of name = [phrases]")
        return {}
    concepts: dict[str, tuple[str, ...]] = {}
    for name, words in raw.items():
        where = f"{path} [concepts] '{name}'"
        if not re.fullmatch(r"[a-z][a-z0-9_]*", str(name)):
            problems.append(f"{where}: a concept name is lower-case letters, digits and _")
        elif isinstance(words, str) or not isinstance(words, list) or not words:
            problems.append(f"{where}: must be a non-empty list of phrases")
        elif not all(isinstance(w, str) and w.strip() for w in words):
            problems.append(f"{where}: every phrase must be a non-empty string")
        elif CONCEPT_REF.search(" ".join(words)):
            problems.append(f"{where}: a concept cannot refer to another concept")
        else:
            try:
                for word in words:
                    re.compile(word)
            except re.error as exc:
                problems.append(f"{where}: bad pattern: {exc}")
                continue
            concepts[name] = tuple(w.strip().replace(" ", r"[^a-z0-9]+") for w in words)
    return concepts


def _string_list(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, str) and v.strip() for v in value)
    )


def _signal(
    raw: Any, index: int, path: str, concepts: dict[str, tuple[str, ...]], clause_ids: set[str]
) -> tuple[Signal | None, list[str]]:
    if not isinstance(raw, dict):
        return None, [f"{path} signal #{index}: must be a table ([[signal]])"]
    where = f"{path} signal #{index} '{raw.get('name', '?')}'"
    problems = [f"{where}: unknown field '{k}'" for k in sorted(set(raw) - SIGNAL_FIELDS)]
    name = raw.get("name")
    if not isinstance(name, str) or not NAME.match(name):
        problems.append(f"{where}: field 'name' must be lower-case words joined by '-'")
    try:
        severity = Severity(str(raw.get("severity")))
    except ValueError:
        problems.append(
            f"{where}: field 'severity' must be one of {', '.join(s.value for s in Severity)}"
        )
        severity = Severity.CONTEXT
    clauses = raw.get("clauses", [])
    if (
        isinstance(clauses, str)
        or not isinstance(clauses, list)
        or not all(isinstance(c, str) for c in clauses)
    ):
        problems.append(f"{where}: field 'clauses' must be a list of clause ids, like [\"D9\"]")
        clauses = []
    if unknown := [c for c in clauses if c not in clause_ids]:
        problems.append(f"{where}: field 'clauses' cites unknown clause(s) {', '.join(unknown)}")
    if severity is not Severity.MANIPULATION and not clauses:
        problems.append(f"{where}: field 'clauses' is empty; every risk cites the policy")
    texts = {}
    for key in ("problem", "explanation"):
        value = raw.get(key)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{where}: field '{key}' must be a non-empty string")
            value = ""
        texts[key] = value.strip()
    route = parse_route(raw.get("route", ""), where, problems)
    if severity is Severity.ASK and route is Route.NONE:
        problems.append(f"{where}: field 'route' is required when severity is 'ask'")
    groups_raw = raw.get("all")
    if isinstance(groups_raw, str) or not isinstance(groups_raw, list) or not groups_raw:
        problems.append(
            f"{where}: field 'all' must be a list of pattern lists, like [[\"door code\"]]"
        )
        groups_raw = []
    groups = [
        _compile(g, concepts, f"{where} field 'all' group {n}", problems)
        for n, g in enumerate(groups_raw, start=1)
    ]
    unless = (
        _compile(raw["unless"], concepts, f"{where} field 'unless'", problems)
        if "unless" in raw
        else None
    )
    for key in ("fires_on", "ignores"):
        if not _string_list(raw.get(key)):
            problems.append(f"{where}: field '{key}' must be a non-empty list of example messages")
    if problems:
        return None, problems
    signal = Signal(
        name=str(name),
        severity=severity,
        clauses=tuple(clauses),
        problem=texts["problem"],
        explanation=texts["explanation"],
        route=route,
        groups=tuple(g for g in groups if g is not None),
        unless=unless,
    )
    for example in raw["fires_on"]:
        if match(signal, example) is None:
            problems.append(f"{where}: field 'fires_on': does not fire on {example!r}")
    for example in raw["ignores"]:
        if match(signal, example) is not None:
            problems.append(f"{where}: field 'ignores': fires on {example!r}")
    return (None if problems else signal), problems


def parse_lexicon(data: Any, path: str, clause_ids: set[str]) -> Lexicon:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise KnowledgeError([f"{path}: must be a TOML table"])
    if unknown := sorted(set(data) - {"concepts", "signal"}):
        problems.append(f"{path}: unknown section(s) {', '.join(unknown)}")
    concepts = _concepts(data.get("concepts"), path, problems)
    raw_signals = data.get("signal", [])
    if not isinstance(raw_signals, list):
        problems.append(f"{path}: 'signal' must be [[signal]] tables")
        raw_signals = []
    signals: list[Signal] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_signals, start=1):
        signal, found = _signal(raw, index, path, concepts, clause_ids)
        problems += found
        if signal is not None:
            if signal.name in names:
                problems.append(
                    f"{path} signal #{index} '{signal.name}': field 'name' is used twice"
                )
            names.add(signal.name)
            signals.append(signal)
    if problems:
        raise KnowledgeError(problems)
    return Lexicon(concepts=concepts, signals=tuple(signals))


def load_lexicon(path: Path, clause_ids: set[str]) -> Lexicon:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError([f"{path}: cannot load the signals: {exc}"]) from exc
    return parse_lexicon(data, str(path), clause_ids)


def match(signal: Signal, text: str, prepared: str | None = None) -> list[str] | None:
    """The words each group matched, or None when the signal does not fire."""
    words = prepared if prepared is not None else surface(text)
    if signal.unless is not None and signal.unless.search(words):
        return None
    evidence = []
    for group in signal.groups:
        found = group.search(words)
        if found is None:
            return None
        evidence.append(found.group(0))
    return evidence


def _quote(signal: Signal, text: str, evidence: list[str]) -> str:
    """The sentence where the first group matched, as the person wrote it."""
    for sentence in split_sentences(text):
        if signal.groups and signal.groups[0].search(surface(sentence)):
            return sentence
    return " … ".join(evidence)


def scan(signals: tuple[Signal, ...], text: str) -> list[Hit]:
    words = surface(text)
    hits = []
    for signal in signals:
        evidence = match(signal, text, words)
        if evidence is not None:
            hits.append(Hit(signal, " … ".join(evidence), _quote(signal, text, evidence)))
    return hits
