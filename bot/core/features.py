"""What the judge sees of a message: sentence embeddings plus hashed word and character n-grams.

Two views, because each covers the other's blind spot. The embedding generalises across
wording ("door code" and "keypad number" land close); the n-grams keep the exact words
that decide a case (a party's name, "without asking", a phone number's shape). A long
pasted draft is also embedded sentence by sentence, and the element-wise maximum over
sentences keeps one hazardous sentence from being averaged away by five harmless ones.

Hashing (CRC-32 into fixed buckets) keeps the artefact free of a vocabulary and makes
features identical across processes and machines.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bot.core.normalise import fold

FEATURES_VERSION = 1
WORD_BUCKETS = 1 << 14
CHAR_BUCKETS = 1 << 14
EMBEDDING_DIM = 384
MAX_SENTENCES = 12
CHAR_NGRAMS = (3, 4, 5)

Vector = npt.NDArray[np.float32]

_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", re.UNICODE)
_DIGIT = re.compile(r"[0-9]")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")
_MIN_SENTENCE_WORDS = 3


def lexical_tokens(text: str) -> list[str]:
    """Folded words and single symbols (emoji carry meaning: 🤫 👀 😂); digits become 0,
    so that one door code or time of day teaches about every other."""
    folded = _DIGIT.sub("0", fold(text))
    return [t for t in _TOKEN.findall(folded) if not t.isspace() and t not in ".,;:!?\"'()-"]


def split_sentences(text: str) -> list[str]:
    """Sentences, with fragments too short to judge on their own merged into the next."""
    pieces = [p.strip() for p in _SENTENCE_END.split(text) if p and p.strip()]
    merged: list[str] = []
    carry = ""
    for piece in pieces:
        candidate = f"{carry} {piece}".strip() if carry else piece
        if len(candidate.split()) < _MIN_SENTENCE_WORDS:
            carry = candidate
            continue
        merged.append(candidate)
        carry = ""
    if carry:
        if merged:
            merged[-1] = f"{merged[-1]} {carry}"
        else:
            merged.append(carry)
    if len(merged) > MAX_SENTENCES:  # keep the count bounded; the tail joins the last one
        merged = [*merged[: MAX_SENTENCES - 1], " ".join(merged[MAX_SENTENCES - 1 :])]
    return merged


def _bucket(feature: str, buckets: int) -> int:
    return zlib.crc32(feature.encode("utf-8")) % buckets


def hashed_counts(tokens: Sequence[str]) -> tuple[Counter[int], Counter[int]]:
    """Word uni- and bigram counts, and character 3–5-gram counts inside words."""
    words: Counter[int] = Counter()
    chars: Counter[int] = Counter()
    for i, token in enumerate(tokens):
        words[_bucket(f"w:{token}", WORD_BUCKETS)] += 1
        if i:
            words[_bucket(f"b:{tokens[i - 1]} {token}", WORD_BUCKETS)] += 1
        padded = f" {token} "
        for n in CHAR_NGRAMS:
            for start in range(len(padded) - n + 1):
                chars[_bucket(padded[start : start + n], CHAR_BUCKETS)] += 1
    return words, chars


@dataclass(frozen=True)
class Lexical:
    """A sparse, L2-normalised TF-IDF vector over both hashed blocks (chars offset)."""

    indices: npt.NDArray[np.int64]
    values: Vector


def lexical(text: str, word_idf: Vector, char_idf: Vector) -> Lexical:
    words, chars = hashed_counts(lexical_tokens(text))
    parts: list[tuple[list[int], list[float]]] = []
    for counts, idf, offset in ((words, word_idf, 0), (chars, char_idf, WORD_BUCKETS)):
        idx = sorted(counts)
        vals = [(1.0 + math.log(counts[i])) * float(idf[i]) for i in idx]
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        parts.append(([i + offset for i in idx], [v / norm for v in vals]))
    return Lexical(
        np.array(parts[0][0] + parts[1][0], dtype=np.int64),
        np.array(parts[0][1] + parts[1][1], dtype=np.float32),
    )


def document_frequencies(texts: Sequence[str]) -> tuple[Vector, Vector]:
    """Smoothed IDF per bucket, as scikit-learn computes it: ln((1+n)/(1+df)) + 1."""
    word_df = np.zeros(WORD_BUCKETS, dtype=np.float64)
    char_df = np.zeros(CHAR_BUCKETS, dtype=np.float64)
    for text in texts:
        words, chars = hashed_counts(lexical_tokens(text))
        word_df[list(words)] += 1
        char_df[list(chars)] += 1
    n = len(texts)
    return (
        (np.log((1 + n) / (1 + word_df)) + 1).astype(np.float32),
        (np.log((1 + n) / (1 + char_df)) + 1).astype(np.float32),
    )


def dense_features(whole: Vector, sentences: Vector) -> Vector:
    """The dense block: the whole-message embedding, then the per-dimension maximum over
    its sentences (the whole message again when it has one sentence)."""
    peak = sentences.max(axis=0) if len(sentences) else whole
    return np.concatenate([whole, peak]).astype(np.float32)


DENSE_DIM = 2 * EMBEDDING_DIM
LEXICAL_DIM = WORD_BUCKETS + CHAR_BUCKETS
