"""BERT WordPiece tokenisation, reproducing the model's tokenizer.json (Hugging Face
`tokenizers`: BertNormalizer, BertPreTokenizer, WordPiece, [CLS] … [SEP]) in plain Python.

The rules follow the Rust implementation rather than the original Google BERT code where
the two differ (its CJK ranges, its older Unicode tables); tests/core/test_encoder.py holds
the ids to ones the real `tokenizers` library produced, and the comparison that made them
went through every code point.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

# Special tokens of this vocabulary. `tokenizers` matches them in the raw text before
# normalising (they are "added tokens" with normalized=false), so a user who types
# "[MASK]" gets id 103, not "[", "mask", "]"; we do the same to stay id-for-id identical.
SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_SPECIAL_SPLIT = re.compile("(" + "|".join(re.escape(t) for t in SPECIAL_TOKENS) + ")")

MAX_CHARS_PER_WORD = 100  # tokenizer.json: WordPiece max_input_chars_per_word
_PREFIX = "##"  # tokenizer.json: continuing_subword_prefix

# What clean_text turns into " ": Rust's char::is_whitespace (Unicode White_Space) less
# the control characters other than \t \n \r, which it drops instead. Not str.isspace,
# which also counts U+001C..U+001F.
_WHITESPACE = frozenset(
    "\t\n\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

# The ranges BertNormalizer pads with spaces. Note 0x2B920, not BERT's 0x2B820: a quirk of
# the Rust code, kept because it is what the model's tokenizer does.
_CJK_RANGES = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B920, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)

# Code points that Python 3.11's tables (Unicode 14) call Mn, Cf or P* but that the
# unicode_categories crate in `tokenizers` (older tables) does not know, so the reference
# keeps them as plain characters: no accent strip, no drop, no split. Found by running
# every code point through both; a newer Python knows more (Unicode 15+), which would
# differ again only on such rare letters of minority scripts.
# fmt: off
_UNKNOWN_TO_REFERENCE = (
    (0x61D, 0x61D), (0x7FD, 0x7FD), (0x890, 0x891), (0x898, 0x89F), (0x8CA, 0x8E2), (0x9FD, 0x9FE),
    (0xA76, 0xA76), (0xAFA, 0xAFF), (0xB55, 0xB55), (0xC04, 0xC04), (0xC3C, 0xC3C), (0xC77, 0xC77),
    (0xC84, 0xC84), (0xD00, 0xD00), (0xD3B, 0xD3C), (0xD81, 0xD81), (0xEBA, 0xEBA),
    (0x180F, 0x180F), (0x1885, 0x1886), (0x1ABF, 0x1ACE), (0x1B7D, 0x1B7E), (0x1DF6, 0x1DFB),
    (0x2E43, 0x2E4F), (0x2E52, 0x2E5D), (0xA82C, 0xA82C), (0xA8C5, 0xA8C5), (0xA8FF, 0xA8FF),
    (0xA9BD, 0xA9BD), (0x10D24, 0x10D27), (0x10EAB, 0x10EAD), (0x10F46, 0x10F50),
    (0x10F55, 0x10F59), (0x10F82, 0x10F89), (0x11070, 0x11070), (0x11073, 0x11074),
    (0x110C2, 0x110C2), (0x110CD, 0x110CD), (0x111CF, 0x111CF), (0x1123E, 0x1123E),
    (0x1133B, 0x1133B), (0x11438, 0x1143F), (0x11442, 0x11444), (0x11446, 0x11446),
    (0x1144B, 0x1144F), (0x1145A, 0x1145B), (0x1145D, 0x1145E), (0x11660, 0x1166C),
    (0x116B9, 0x116B9), (0x1182F, 0x11837), (0x11839, 0x1183B), (0x1193B, 0x1193C),
    (0x1193E, 0x1193E), (0x11943, 0x11946), (0x119D4, 0x119D7), (0x119DA, 0x119DB),
    (0x119E0, 0x119E0), (0x119E2, 0x119E2), (0x11A01, 0x11A0A), (0x11A33, 0x11A38),
    (0x11A3B, 0x11A47), (0x11A51, 0x11A56), (0x11A59, 0x11A5B), (0x11A8A, 0x11A96),
    (0x11A98, 0x11A9C), (0x11A9E, 0x11AA2), (0x11C30, 0x11C36), (0x11C38, 0x11C3D),
    (0x11C3F, 0x11C3F), (0x11C41, 0x11C45), (0x11C70, 0x11C71), (0x11C92, 0x11CA7),
    (0x11CAA, 0x11CB0), (0x11CB2, 0x11CB3), (0x11CB5, 0x11CB6), (0x11D31, 0x11D36),
    (0x11D3A, 0x11D3A), (0x11D3C, 0x11D3D), (0x11D3F, 0x11D45), (0x11D47, 0x11D47),
    (0x11D90, 0x11D91), (0x11D95, 0x11D95), (0x11D97, 0x11D97), (0x11EF3, 0x11EF4),
    (0x11EF7, 0x11EF8), (0x11FFF, 0x11FFF), (0x12FF1, 0x12FF2), (0x13430, 0x13438),
    (0x16E97, 0x16E9A), (0x16F4F, 0x16F4F), (0x16FE2, 0x16FE2), (0x16FE4, 0x16FE4),
    (0x1CF00, 0x1CF2D), (0x1CF30, 0x1CF46), (0x1E000, 0x1E006), (0x1E008, 0x1E018),
    (0x1E01B, 0x1E021), (0x1E023, 0x1E024), (0x1E026, 0x1E02A), (0x1E130, 0x1E136),
    (0x1E2AE, 0x1E2AE), (0x1E2EC, 0x1E2EF), (0x1E944, 0x1E94A), (0x1E95E, 0x1E95F),
)
# fmt: on
_UNKNOWN_STARTS = tuple(lo for lo, _ in _UNKNOWN_TO_REFERENCE)
# Three whose category has changed since the reference's tables, which keep the old one:
# CANADIAN SYLLABICS CHI SIGN (Po, now So) and SHARADA SANDHI MARK (Po, now Mn) still
# split as punctuation; HANUNOO SIGN PAMUDPOD (Mn, now Mc) is still stripped as an accent.
_REFERENCE_PUNCTUATION = frozenset({0x166D, 0x111C9})
_REFERENCE_NONSPACING = frozenset({0x1734})


def _unknown_to_reference(cp: int) -> bool:
    i = bisect.bisect_right(_UNKNOWN_STARTS, cp) - 1
    return i >= 0 and cp <= _UNKNOWN_TO_REFERENCE[i][1]


def _in_ranges(cp: int, ranges: Iterable[tuple[int, int]]) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _clean(ch: str) -> str:
    """clean_text + handle_chinese_chars for one character: "" to drop it."""
    cp = ord(ch)
    if ch in _WHITESPACE:
        return " "
    # is_other() of the unicode_categories crate: Cc, Cf, Co (Cs cannot occur in a str
    # that came through UTF-8); not Cn, so an unassigned code point stays and becomes [UNK].
    if cp == 0 or cp == 0xFFFD:
        return ""
    if unicodedata.category(ch) in ("Cc", "Cf", "Co") and not _unknown_to_reference(cp):
        return ""
    if _in_ranges(cp, _CJK_RANGES):
        return f" {ch} "
    return ch


def _strip_and_lower(ch: str) -> str:
    """After NFD: drop non-spacing marks (the accents), then lowercase char by char.

    Char by char because Rust's char::to_lowercase has no final-sigma rule, which
    Python's str.lower applies to whole words.
    """
    cp = ord(ch)
    if cp in _REFERENCE_NONSPACING:
        return ""
    if (
        unicodedata.category(ch) == "Mn"
        and not _unknown_to_reference(cp)
        and cp not in _REFERENCE_PUNCTUATION
    ):
        return ""
    return ch.lower()


@lru_cache(maxsize=4096)
def _is_punctuation(ch: str) -> bool:
    # BertPreTokenizer: ASCII punctuation (which includes symbols such as $ + < = > ^ ` | ~)
    # or any Unicode P* category.
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    if cp in _REFERENCE_PUNCTUATION:
        return True
    return unicodedata.category(ch)[0] == "P" and not _unknown_to_reference(cp)


class _Table(dict[int, str]):
    """A str.translate table filled on first use of each code point.

    Bounded, so text made of every code point cannot grow it without limit; past the
    bound new characters are still translated, just not remembered.
    """

    LIMIT = 20_000

    def __init__(self, rule: Callable[[str], str]) -> None:
        super().__init__()
        self._rule = rule

    def __missing__(self, cp: int) -> str:
        value = self._rule(chr(cp))
        if len(self) < self.LIMIT:
            self[cp] = value
        return value


_CLEAN = _Table(_clean)
_STRIP_LOWER = _Table(_strip_and_lower)


def normalise(text: str) -> str:
    """BertNormalizer(clean_text, handle_chinese_chars, strip_accents, lowercase)."""
    if text.isascii():
        # ASCII needs no NFD and has no marks or CJK: a faster path with the same result.
        return text.translate(_CLEAN).lower()
    cleaned = text.translate(_CLEAN)
    return unicodedata.normalize("NFD", cleaned).translate(_STRIP_LOWER)


def pre_tokenise(text: str) -> Iterator[str]:
    """BertPreTokenizer: split on whitespace, and make each punctuation mark a word.

    A generator, so that truncation can stop early in a long paste.
    """
    # After normalise() every kind of whitespace is " ", and str.split() splits on no
    # character that normalise() leaves in.
    for chunk in text.split():
        if chunk.isalnum():  # letters and digits are never punctuation: the usual case
            yield chunk
            continue
        start = 0
        for i, ch in enumerate(chunk):
            if _is_punctuation(ch):
                if start < i:
                    yield chunk[start:i]
                yield ch
                start = i + 1
        if start < len(chunk):
            yield chunk[start:]


class WordPieceTokenizer:
    """Text to the model's input ids, as sentence-transformers feeds them to BERT."""

    def __init__(self, vocab: list[str], max_length: int) -> None:
        if max_length < 2:
            raise ValueError("max_length must leave room for [CLS] and [SEP]")
        self.vocab: dict[str, int] = {token: i for i, token in enumerate(vocab)}
        self.max_length = max_length
        self.unk_id = self.vocab["[UNK]"]
        self.cls_id = self.vocab["[CLS]"]
        self.sep_id = self.vocab["[SEP]"]
        self.pad_id = self.vocab["[PAD]"]
        # Per instance, so two tokenizers never share a cache; words repeat a lot in chat.
        self._word_ids = lru_cache(maxsize=65536)(self._wordpiece)

    @classmethod
    def from_vocab_file(cls, path: Path, max_length: int) -> WordPieceTokenizer:
        # vocab.txt: one token per line, the line number is the id. Split on "\n" only:
        # splitlines() would also break on the U+2028-like characters some tokens hold.
        tokens = path.read_text(encoding="utf-8").split("\n")
        if tokens and tokens[-1] == "":
            tokens.pop()
        return cls(tokens, max_length)

    def _wordpiece(self, word: str) -> tuple[int, ...]:
        """Greedy longest-match-first; one unmatched piece makes the whole word [UNK]."""
        if len(word) > MAX_CHARS_PER_WORD:
            return (self.unk_id,)
        whole = self.vocab.get(word)
        if whole is not None:
            return (whole,)
        ids: list[int] = []
        start, n = 0, len(word)
        while start < n:
            end = n
            found: int | None = None
            while start < end:
                piece = word[start:end] if start == 0 else _PREFIX + word[start:end]
                found = self.vocab.get(piece)
                if found is not None:
                    break
                end -= 1
            if found is None:
                return (self.unk_id,)
            ids.append(found)
            start = end
        return tuple(ids)

    def tokenise(self, text: str, limit: int | None = None) -> list[int]:
        """Word-piece ids of the text, without [CLS]/[SEP]; the first `limit` if given.

        Cutting the finished list is what `tokenizers` does; stopping once the limit is
        reached gives the same ids without tokenising the rest of a long text.
        """
        ids: list[int] = []
        for i, part in enumerate(_SPECIAL_SPLIT.split(text)):
            if i % 2:  # the captured separators: a special token typed into the text
                ids.append(self.vocab[part])
            elif part:
                for word in pre_tokenise(normalise(part)):
                    ids.extend(self._word_ids(word))
                    if limit is not None and len(ids) >= limit:
                        break
            if limit is not None and len(ids) >= limit:
                return ids[:limit]
        return ids

    def encode(self, text: str) -> list[int]:
        """[CLS] pieces [SEP], the pieces cut so the whole fits in max_length."""
        return [self.cls_id, *self.tokenise(text, self.max_length - 2), self.sep_id]
