"""Text normalisation shared by indexing, matching and the risk signals.

Staff type fast ("can i put a pic on insta 4 my mates"); the FAQ is written carefully.
Both go through the same steps so they meet in the middle: Unicode folding, case and
punctuation; then the lexicon's spelling fixes; then concepts (every synonym replaced by
its concept's name, so 'workplace' and 'employer' match); then, for retrieval only, stop
words out and a light stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "`": "'", "“": '"', "”": '"', "„": '"', "«": '"',
     "»": '"', "–": "-", "—": "-", "−": "-"}
)  # fmt: skip
STOPWORDS = frozenset(
    """
    a an the and or but if of to in on at for from by with about as into is are was were be
    been being am do does did doing i me my mine we our us you your he him his she her it
    its they them their this that these those there here what which who whom whose how when
    where why can could would should will shall may might must just so very really quite
    also too than then not no any some all up out over again still even only one wee bit
    okay allowed fine please thanks hi ever actually honestly literally maybe though like
    get got go going want wanted need think know let much many have has had keep keeps come
    comes came never across something anything thing things stuff same under myself
    yourself lot lots bit way kind sort mean means does did done make made say tell
    """.split()  # noqa: SIM905 - a word list reads best as words
)


def fold(text: str) -> str:
    """Unicode-fold, lower-case, straighten quotes and drop accents; keeps punctuation."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES).lower()
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


class _Replacer:
    """Single words through a dict, multi-word phrases through one compiled regex.

    With `stems`, a single word also matches by its stem, so a concept listing 'retweet'
    catches 'retweeting' and 'retweeted' too.
    """

    def __init__(self, mapping: Mapping[str, str], *, stems: bool = False) -> None:
        self._single = {k: v for k, v in mapping.items() if " " not in k}
        self._by_stem = {stem(k): v for k, v in self._single.items()} if stems else {}
        phrases = sorted((k for k in mapping if " " in k), key=len, reverse=True)
        self._phrases = {p: mapping[p] for p in phrases}
        self._pattern = (
            re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b")
            if phrases
            else None
        )

    def __call__(self, words: list[str]) -> str:
        single, by_stem = self._single, self._by_stem
        text = " ".join(single.get(w) or (by_stem.get(stem(w), w) if by_stem else w) for w in words)
        if self._pattern is not None:
            text = self._pattern.sub(lambda m: self._phrases[m.group(0)], text)
        return text


class Normaliser:
    """Pure and reusable across threads once built."""

    def __init__(
        self, replacements: Mapping[str, str], concepts: Mapping[str, list[str]] | None = None
    ) -> None:
        self._fixes = _Replacer(replacements)  # exact words only: fixes are spellings
        synonyms = {word: name for name, words in (concepts or {}).items() for word in words}
        self._concepts = _Replacer(synonyms, stems=True)

    def text(self, raw: str) -> str:
        """Folded words with spelling fixed and concepts applied: what signals run on."""
        words = WORD.findall(fold(raw))
        fixed = self._fixes(words).split()
        # Possessives carry no meaning here ("the parliament's account").
        fixed = [w[:-2] if w.endswith("'s") else w for w in fixed]
        return self._concepts(fixed)

    def tokens(self, raw: str) -> list[str]:
        """Stemmed content words: what retrieval indexes."""
        return [stem(w) for w in self.text(raw).split() if w not in STOPWORDS]
