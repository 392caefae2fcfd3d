"""Text folding shared by the judge's lexical features and the risk signals.

Only what is safe for both: Unicode compatibility forms, lower case, straight quotes and
dashes, no accents. Words are never rewritten here: a signal matches what the person
wrote, so a pattern cannot silently die because a normaliser turned its words into
something else first.
"""

from __future__ import annotations

import unicodedata

QUOTES = str.maketrans(
    {"‘": "'", "’": "'", "‚": "'", "‛": "'", "`": "'", "“": '"', "”": '"', "„": '"', "«": '"',
     "»": '"', "–": "-", "—": "-", "−": "-"}
)  # fmt: skip


def fold(text: str) -> str:
    """Unicode-fold, lower-case, straighten quotes and drop accents; keeps punctuation."""
    text = unicodedata.normalize("NFKC", text).translate(QUOTES).lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))
