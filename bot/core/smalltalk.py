"""Greetings, thanks and emoji reactions: recognised, answered briefly, kept out of scope.

"hi", "thanks!" or "👍" is not a question about the policy, so its verdict stays
`out_of_scope` (that is how the examples label it), but a person who says hello or thank
you deserves a friendly word rather than "Not my area". The words, the phrases and the
replies are data (knowledge/smalltalk.toml) that a policy officer can edit.

A message is small talk when it is made only of those words, filler words, emoji and
punctuation ("Hi there!", "thanks a lot 👍", "🙏"). A message that starts with thanks and
asks nothing ("Cheers, that saved me a lot of bother") also counts, but only once the
adviser has found it out of scope: small talk never changes a verdict.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.examples import Example
from bot.core.knowledge import KnowledgeError
from bot.core.types import Verdict

MAX_WORDS = 12  # small talk is short; a longer message is read by the adviser
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Joiners and modifiers that belong to an emoji: zero-width joiner, variation selectors,
# skin tones (category Sk), the keycap mark.
_EMOJI_PARTS = {"\u200d", "\ufe0e", "\ufe0f", "\u20e3"}
FIELDS = {"words", "reply", "entry", "leading"}
# A question, a quoted draft, a hashtag or a mention is not a thank-you.
_NOT_CHAT = ("?", '"', "“", "”", "#", "@")


@dataclass(frozen=True)
class Kind:
    name: str  # "greeting", "thanks", …
    phrases: tuple[tuple[str, ...], ...]  # each a run of words, longest first
    reply: str  # the reply, unless an FAQ entry gives it
    leading: tuple[tuple[str, ...], ...] = ()  # phrases that may start a longer message
    entry: str = ""  # the out-of-scope FAQ entry (faq/chat.toml) whose answer is the reply


@dataclass(frozen=True)
class SmallTalk:
    kinds: tuple[Kind, ...]  # in order of precedence: "hi, thanks" is thanks
    filler: frozenset[str]
    emoticons: frozenset[str]
    reaction: str  # the reply to emoji alone

    def recognise(self, text: str) -> Kind | None:
        """The kind of small talk `text` is wholly made of, else None."""
        emoji, rest = _split_emoji(text, self.emoticons)
        words = _words(rest)
        if not words:
            return self._reaction() if emoji else None
        if len(words) > MAX_WORDS:
            return None
        found: list[Kind] = []
        position = 0
        while position < len(words):
            match = self._phrase_at(words, position)
            if match is not None:
                kind, length = match
                found.append(kind)
                position += length
            elif words[position] in self.filler:
                position += 1
            else:
                return None
        return min(found, key=self.kinds.index) if found else None

    def leading(self, text: str) -> Kind | None:
        """The kind whose `leading` phrase starts a longer message ("Cheers, that saved me
        a lot of bother"); never for a question or a quoted draft."""
        if any(mark in text for mark in _NOT_CHAT):
            return None
        words = _words(_split_emoji(text, self.emoticons)[1])
        for kind in self.kinds:
            for phrase in kind.leading:
                starts = tuple(words[: len(phrase)]) == phrase
                # "Thanks to the team for …" is a draft post thanking someone, not us.
                if starts and words[len(phrase) : len(phrase) + 1] != ["to"]:
                    return kind
        return None

    def _phrase_at(self, words: list[str], position: int) -> tuple[Kind, int] | None:
        best: tuple[Kind, int] | None = None
        for kind in self.kinds:
            for phrase in kind.phrases:
                end = position + len(phrase)
                if tuple(words[position:end]) == phrase and (best is None or len(phrase) > best[1]):
                    best = (kind, len(phrase))
        return best

    def _reaction(self) -> Kind:
        return Kind("reaction", (), self.reaction)


def _words(text: str) -> list[str]:
    text = text.lower().replace("’", "'").replace("‘", "'")
    return _WORD.findall(text)


def _is_emoji(ch: str) -> bool:
    return ch in _EMOJI_PARTS or (unicodedata.category(ch) in ("So", "Sk") and ord(ch) > 0x2000)


def _split_emoji(text: str, emoticons: Iterable[str]) -> tuple[bool, str]:
    """(whether the text has an emoji or emoticon, the text without them)."""
    found = False
    for emoticon in sorted(emoticons, key=len, reverse=True):
        if emoticon in text:
            found = True
            text = text.replace(emoticon, " ")
    kept = []
    for ch in text:
        if _is_emoji(ch):
            found = True
            kept.append(" ")
        else:
            kept.append(ch)
    return found, "".join(kept)


def parse_smalltalk(data: Any, path: str) -> SmallTalk:
    problems: list[str] = []
    if not isinstance(data, dict):
        raise KnowledgeError([f"{path}: expected a TOML table"])
    filler = set(_word_list(data.get("filler", []), f"{path}: field 'filler'", problems))
    emoticons = data.get("emoticons", [])
    if not isinstance(emoticons, list) or not all(isinstance(e, str) and e for e in emoticons):
        problems.append(f"{path}: field 'emoticons' must be a list of non-empty strings")
        emoticons = []
    reaction = data.get("reaction")
    if not isinstance(reaction, str) or not reaction.strip():
        problems.append(f"{path}: field 'reaction' must be the reply to emoji alone")
        reaction = ""
    table = data.get("kind")
    kinds: list[Kind] = []
    if not isinstance(table, dict) or not table:
        problems.append(f"{path}: expected [kind.<name>] tables (greeting, thanks, …)")
        table = {}
    seen: dict[tuple[str, ...], str] = {}
    for name, raw in table.items():
        where = f"{path} [kind.{name}]"
        if not isinstance(raw, dict):
            problems.append(f"{where}: must be a table with 'words' and 'reply'")
            continue
        if unknown := sorted(set(raw) - FIELDS):
            problems.append(f"{where}: unknown field(s) {', '.join(unknown)}")
        reply, entry = raw.get("reply", ""), raw.get("entry", "")
        if not isinstance(entry, str) or not isinstance(reply, str):
            problems.append(f"{where}: fields 'reply' and 'entry' must be strings")
            reply, entry = "", ""
        elif bool(reply.strip()) == bool(entry.strip()):
            problems.append(
                f"{where}: give either 'entry' (an FAQ entry whose answer is the reply) or "
                "'reply', not both or neither"
            )
        phrases: list[tuple[str, ...]] = []
        for phrase in _word_list(raw.get("words"), f"{where}: field 'words'", problems):
            words = tuple(_words(phrase))
            if " ".join(words) != " ".join(phrase.lower().split()):
                problems.append(f"{where}: '{phrase}' must be plain words (letters, digits, ')")
            elif words in seen:
                problems.append(f"{where}: '{phrase}' is already in [kind.{seen[words]}]")
            else:
                seen[words] = name
                phrases.append(words)
        phrases.sort(key=len, reverse=True)
        leading = []
        for phrase in _word_list(raw.get("leading", []), f"{where}: field 'leading'", problems):
            words = tuple(_words(phrase))
            if words not in phrases:
                problems.append(f"{where}: field 'leading' has '{phrase}', which is not in 'words'")
            leading.append(words)
        kinds.append(Kind(name, tuple(phrases), reply.strip(), tuple(leading), entry.strip()))
    clash = sorted(filler & {" ".join(p) for p in seen})
    if clash:
        problems.append(f"{path}: field 'filler' repeats small-talk words: {', '.join(clash)}")
    if problems:
        raise KnowledgeError(problems)
    return SmallTalk(tuple(kinds), frozenset(filler), frozenset(emoticons), reaction.strip())


def _word_list(value: Any, label: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        problems.append(f"{label} must be a list of words or phrases")
        return []
    return [v.strip().lower() for v in value]


def load_smalltalk(path: Path) -> SmallTalk:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KnowledgeError([f"{path}: cannot load the small talk: {exc}"]) from exc
    return parse_smalltalk(data, str(path))


def entry_problems(smalltalk: SmallTalk, entries: Mapping[str, Verdict]) -> list[str]:
    """Each kind's `entry` must be an out-of-scope FAQ entry (`entries`: id -> verdict)."""
    problems = []
    for kind in smalltalk.kinds:
        if kind.entry and entries.get(kind.entry) is not Verdict.OUT_OF_SCOPE:
            problems.append(
                f"smalltalk.toml [kind.{kind.name}]: field 'entry' must name an out_of_scope "
                f"FAQ entry; '{kind.entry}' is not one"
            )
    return problems


def misread_examples(smalltalk: SmallTalk, examples: Sequence[Example]) -> list[str]:
    """Labelled questions that the small-talk words would answer with a pleasantry: each
    is a problem, because small talk skips the adviser (a word list that swallows "ok to
    post?" would hide real advice)."""
    problems = []
    for example in examples:
        kind = smalltalk.recognise(example.text)
        if kind is not None and example.verdict is not Verdict.OUT_OF_SCOPE:
            problems.append(
                f"smalltalk.toml [kind.{kind.name}]: example {example.id} (labelled "
                f"{example.verdict.value}) would read as small talk: {example.text[:60]!r}"
            )
    return problems
