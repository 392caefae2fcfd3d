"""Lexical risk signals: what a message or pasted draft contains, whatever FAQ entry it matches.

The patterns are data (knowledge/lexicon.toml); this module compiles and runs them. A
signal fires when every one of its `all` groups has a match and none of its `unless`
patterns does. Patterns are regular expressions over normalised text, word-bounded.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.core.knowledge import KnowledgeError
from bot.core.types import Route


class Severity(StrEnum):
    NOT_OK = "not_ok"  # on its own enough to say no
    CAUTION = "caution"  # never 'ok' while this fires
    ASK = "ask"  # the right answer is to ask someone first
    CONTEXT = "context"  # shifts routing or clauses, not the verdict
    SUPPORTS = "supports"  # evidence for 'ok' when nothing else decides
    MANIPULATION = "manipulation"  # the message tries to steer the verdict


@dataclass(frozen=True)
class Signal:
    name: str
    severity: Severity
    clauses: tuple[str, ...]
    explanation: str
    route: Route
    groups: tuple[re.Pattern[str], ...]
    unless: re.Pattern[str] | None
    raw_groups: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class Hit:
    signal: Signal
    evidence: str


@dataclass(frozen=True)
class Lexicon:
    replacements: dict[str, str]
    concepts: dict[str, list[str]]
    topic_words: frozenset[str]
    signals: tuple[Signal, ...]


def _compile(
    patterns: Any, where: str, problems: list[str], *, bounded: bool = True
) -> re.Pattern[str] | None:
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        problems.append(f"{where}: expected a list of pattern strings")
        return None
    try:
        body = "|".join(f"(?:{p})" for p in patterns)
        # Raw groups look at emoji and punctuation, where word boundaries mean nothing.
        return re.compile(rf"\b(?:{body})\b" if bounded else body)
    except re.error as exc:
        problems.append(f"{where}: bad pattern: {exc}")
        return None


def parse_lexicon(data: dict[str, Any], path: str, clause_ids: set[str]) -> Lexicon:
    problems: list[str] = []
    replacements = data.get("replacements", {})
    if not isinstance(replacements, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in replacements.items()
    ):
        problems.append(f"{path}: [replacements] must map words to words")
        replacements = {}
    concepts = data.get("concepts", {})
    if not isinstance(concepts, dict) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(w, str) for w in v)
        for k, v in concepts.items()
    ):
        problems.append(f"{path}: [concepts] must map a name to a list of words")
        concepts = {}
    topic = data.get("topic", {}).get("words", [])
    if not isinstance(topic, list) or not topic or not all(isinstance(w, str) for w in topic):
        problems.append(f"{path}: [topic] needs a non-empty list 'words'")
        topic = []
    signals: list[Signal] = []
    for index, raw in enumerate(data.get("signal", []), start=1):
        where = f"{path} signal #{index} '{raw.get('name', '?')}'"
        try:
            severity = Severity(raw.get("severity"))
            route = Route(raw.get("route", ""))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
            continue
        clauses = tuple(raw.get("clauses", []))
        unknown = [c for c in clauses if c not in clause_ids]
        if unknown:
            problems.append(
                f"{where}: field 'clauses' cites unknown clause(s) {', '.join(unknown)}"
            )
        groups = [_compile(g, f"{where} field 'all'", problems) for g in raw.get("all", [])]
        raw_groups = [
            _compile(g, f"{where} field 'raw'", problems, bounded=False) for g in raw.get("raw", [])
        ]
        unless = (
            _compile(raw["unless"], f"{where} field 'unless'", problems)
            if "unless" in raw
            else None
        )
        if not groups and not raw_groups:
            problems.append(f"{where}: needs at least one 'all' or 'raw' group")
        if not isinstance(raw.get("explanation"), str):
            problems.append(f"{where}: field 'explanation' is missing")
        if problems:
            continue
        signals.append(
            Signal(
                name=str(raw["name"]),
                severity=severity,
                clauses=clauses,
                explanation=raw["explanation"].strip(),
                route=route,
                groups=tuple(g for g in groups if g is not None),
                unless=unless,
                raw_groups=tuple(g for g in raw_groups if g is not None),
            )
        )
    if problems:
        raise KnowledgeError(problems)
    return Lexicon(
        replacements=dict(replacements),
        concepts=dict(concepts),
        topic_words=frozenset(topic),
        signals=tuple(signals),
    )


def load_lexicon(path: Path, clause_ids: set[str]) -> Lexicon:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError([f"{path}: cannot load the lexicon: {exc}"]) from exc
    return parse_lexicon(data, str(path), clause_ids)


def scan(signals: tuple[Signal, ...], normalised: str, folded: str) -> list[Hit]:
    """Run every signal over the message. `folded` keeps emoji and punctuation for raw groups."""
    hits = []
    for signal in signals:
        evidence = []
        for group in signal.groups:
            found = group.search(normalised)
            if not found:
                break
            evidence.append(found.group(0))
        else:
            for group in signal.raw_groups:
                found = group.search(folded)
                if not found:
                    break
                evidence.append(found.group(0))
            else:
                if signal.unless is None or not signal.unless.search(normalised):
                    hits.append(Hit(signal, " … ".join(evidence)))
    return hits
