"""Text normalisation shared by indexing and matching.

Staff type fast ("can i put a pic on insta 4 my mates"); the FAQ is written carefully.
Both go through the same steps so they meet in the middle: Unicode folding, case,
punctuation, then the lexicon's spelling fixes and abbreviations, then a light stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
QUOTES = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "–": "-",
        "—": "-",
        "−": "-",
    }
)
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "if",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "about",
        "as",
        "into",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "am",
        "do",
        "does",
        "did",
        "doing",
        "i",
        "me",
        "my",
        "mine",
        "we",
        "our",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "it",
        "its",
        "they",
        "them",
        "their",
        "this",
        "that",
        "these",
        "those",
        "there",
        "here",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "how",
        "when",
        "where",
        "why",
        "can",
        "could",
        "would",
        "should",
        "will",
        "shall",
        "may",
        "might",
        "must",
        "just",
        "so",
        "very",
        "really",
        "quite",
        "also",
        "too",
        "than",
        "then",
        "there's",
        "it's",
        "i'm",
        "i've",
        "i'd",
        "don't",
        "im",
        "ive",
        "id",
        "dont",
        "isn't",
        "is",
        "it",
        "ok",
        "okay",
        "allowed",
        "fine",
        "please",
        "thanks",
        "hi",
        "any",
        "some",
        "all",
        "up",
        "out",
        "over",
        "again",
        "still",
        "even",
        "only",
        "one",
        "wee",
        "bit",
    ]
)


def fold(text: str) -> str:
    """Unicode-fold, lower-case and straighten quotes; keeps punctuation."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES).lower()
    # Drop accents (Gàidhlig names, café) but keep the letters.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def stem(word: str) -> str:
    """A deliberately small suffix stripper: enough to meet 'posting'/'posted'/'posts'."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", ""), ("ly", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)] + keep
            break
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]  # 'shopp' -> 'shop'
    return word.removesuffix("e") if len(word) > 4 else word


class Normaliser:
    """Applies the lexicon's word replacements; pure and reusable across threads."""

    def __init__(self, replacements: Mapping[str, str]) -> None:
        self._single = {k: v for k, v in replacements.items() if " " not in k}
        phrases = sorted((k for k in replacements if " " in k), key=len, reverse=True)
        self._phrases = [(re.compile(rf"\b{re.escape(p)}\b"), replacements[p]) for p in phrases]

    def text(self, raw: str) -> str:
        """Folded text with spelling fixed: what risk patterns run against."""
        words = WORD.findall(fold(raw).replace("'s ", " 's "))
        text = " ".join(self._single.get(w, w) for w in words)
        for pattern, replacement in self._phrases:
            text = pattern.sub(replacement, text)
        return text

    def tokens(self, raw: str) -> list[str]:
        """Stemmed content words: what retrieval indexes."""
        return [stem(w) for w in self.text(raw).split() if w not in STOPWORDS and w != "'s"]
