"""Find the FAQ entries closest to a message.

Two stages so that it stays fast at 10k entries: BM25 over an inverted index picks
candidates (cost grows with the message's words, not the FAQ's size), then rapidfuzz
re-ranks them against each entry's paraphrases. The final score is in 0..1.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.core.normalise import Normaliser
from bot.core.types import Entry

BM25_K1 = 1.2
BM25_B = 0.75
CANDIDATES = 12
LEXICAL_WEIGHT = 0.55
CEILING_TERMS = 8


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    question: str


class Matcher:
    def __init__(self, entries: tuple[Entry, ...], normaliser: Normaliser) -> None:
        self._entries = entries
        self._normaliser = normaliser
        # One BM25 document per entry: all its paraphrases together, so that an entry
        # whose wording is spread over several paraphrases still collects every hit.
        self._postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        self._lengths: list[int] = []
        self._paraphrases: list[list[tuple[str, str]]] = []
        for index, entry in enumerate(entries):
            counts: Counter[str] = Counter()
            normalised: list[tuple[str, str]] = []
            for question in entry.questions:
                tokens = normaliser.tokens(question)
                counts.update(set(tokens))
                normalised.append((" ".join(tokens), question))
            for token, count in counts.items():
                self._postings[token].append((index, count))
            self._lengths.append(sum(counts.values()))
            self._paraphrases.append(normalised)
        self._average_length = sum(self._lengths) / max(len(self._lengths), 1)
        total = len(entries)
        self._idf = {
            token: math.log(1 + (total - len(posts) + 0.5) / (len(posts) + 0.5))
            for token, posts in self._postings.items()
        }
        ranked = sorted(self._idf.values())
        self._unknown_idf = ranked[int(len(ranked) * 0.75)] if ranked else 1.0
        # BM25 per (token, entry) depends only on the index: compute it once here so that
        # a query is a few dictionary additions per posting.
        self._weights: dict[str, list[tuple[int, float]]] = {}
        for token, posts in self._postings.items():
            idf = self._idf[token]
            weighted = []
            for index, count in posts:
                norm = 1 - BM25_B + BM25_B * self._lengths[index] / self._average_length
                weighted.append((index, idf * count * (BM25_K1 + 1) / (count + BM25_K1 * norm)))
            self._weights[token] = weighted

    def search(self, text: str, limit: int = 5) -> list[Match]:
        tokens = self._normaliser.tokens(text)
        if not tokens:
            return []
        query_terms = set(tokens)
        scores: dict[int, float] = defaultdict(float)
        for token in query_terms:
            for index, weight in self._weights.get(token, ()):
                scores[index] += weight
        if not scores:
            return []
        # The best possible BM25 for this query: every query word matched in a typical entry.
        # Words the FAQ never uses count at full weight: an unknown word ('dog', 'hustings')
        # is exactly what makes a familiar-looking question a different one.
        weights = sorted((self._idf.get(t, self._unknown_idf) for t in query_terms), reverse=True)
        # No entry can be expected to cover more words than a long paraphrase has.
        ceiling = max(sum(weights[:CEILING_TERMS]), 1e-9)
        # A query of only everyday words ("post", "online") carries too little to be sure.
        informative = min(ceiling / (2 * self._unknown_idf), 1.0)
        top = sorted(scores.items(), key=lambda item: item[1], reverse=True)[:CANDIDATES]
        joined = " ".join(tokens)
        matches = []
        for index, lexical in top:
            best_ratio, best_question = 0.0, self._entries[index].questions[0]
            for normalised, question in self._paraphrases[index]:
                # token_sort, not token_set: a query whose words are a subset of a longer
                # paraphrase must not score as a perfect match.
                ratio = fuzz.token_sort_ratio(joined, normalised) / 100
                if ratio > best_ratio:
                    best_ratio, best_question = ratio, question
            lexical_share = min(lexical / ceiling, 1.0)
            score = LEXICAL_WEIGHT * lexical_share + (1 - LEXICAL_WEIGHT) * best_ratio
            score *= 0.3 + 0.7 * informative
            matches.append(Match(self._entries[index], score, best_question))
        matches.sort(key=lambda m: m.score, reverse=True)
        return matches[:limit]
