"""The learned judge: verdict, clause and route probabilities for one message.

Linear heads over `features.py`'s view of a message, trained by `training.py` into a
small artefact in knowledge/judge/. Inference is numpy only. The judge never decides on
its own: `adviser.py` applies the thresholds and the risk signals, which can only make
its answer stricter.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from bot.core.features import (
    DENSE_DIM,
    FEATURES_VERSION,
    LEXICAL_DIM,
    Lexical,
    Vector,
    dense_features,
    lexical,
    split_sentences,
)
from bot.core.knowledge import KnowledgeError
from bot.core.types import Route, Verdict

ARTEFACT_VERSION = 1
WEIGHTS_FILE = "weights.npz"
META_FILE = "judge.json"
RETRAIN = "run `python -m bot knowledge train`"

Matrix = npt.NDArray[np.float32]


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised sentence embeddings (n, 384)."""

    def encode(self, texts: Sequence[str]) -> Matrix: ...


@dataclass(frozen=True)
class Head:
    """A linear layer split in two: dense rows, then sparse lexical rows."""

    dense: Matrix  # (DENSE_DIM, k)
    lexical: Matrix  # (LEXICAL_DIM, k)
    bias: Vector  # (k,)

    def logits(self, dense: Vector, lex: Lexical) -> Vector:
        out = dense @ self.dense + self.bias
        if len(lex.indices):
            out = out + lex.values @ self.lexical[lex.indices]
        return np.asarray(out, dtype=np.float32)


def softmax(logits: Vector) -> Vector:
    shifted = np.exp(logits - logits.max())
    return np.asarray(shifted / shifted.sum(), dtype=np.float32)


def sigmoid(logits: Vector) -> Vector:
    return np.asarray(1.0 / (1.0 + np.exp(-logits)), dtype=np.float32)


@dataclass(frozen=True)
class Part:
    """One sentence of the message and how the heads read it on its own."""

    text: str
    verdicts: dict[Verdict, float]
    clauses: dict[str, float]


@dataclass(frozen=True)
class Judgement:
    verdicts: dict[Verdict, float]
    clauses: dict[str, float]
    route: dict[Route, float]
    embedding: Vector
    parts: tuple[Part, ...]

    def top(self) -> Verdict:
        # Ties (vanishingly rare with floats) break by the fixed verdict order.
        return max(self.verdicts, key=lambda v: (self.verdicts[v], -list(Verdict).index(v)))


@dataclass(frozen=True)
class Artefact:
    meta: dict[str, Any]
    word_idf: Vector
    char_idf: Vector
    verdict: Head
    clause: Head
    route: Head
    verdict_classes: tuple[Verdict, ...]
    clause_ids: tuple[str, ...]
    faq_embeddings: Matrix
    faq_keys: tuple[tuple[str, int], ...]  # (entry id, paraphrase index) per row


def _head(arrays: Any, name: str) -> Head:
    return Head(
        dense=np.ascontiguousarray(arrays[f"{name}_dense"], dtype=np.float32),
        lexical=np.ascontiguousarray(arrays[f"{name}_lexical"], dtype=np.float32),
        bias=np.asarray(arrays[f"{name}_bias"], dtype=np.float32),
    )


def load_artefact(directory: Path) -> Artefact:
    """Read knowledge/judge/; any problem names the file and what is wrong."""
    folder = directory / "judge"
    meta_path, weights_path = folder / META_FILE, folder / WEIGHTS_FILE
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        weights = weights_path.read_bytes()
    except (OSError, ValueError) as exc:
        raise KnowledgeError(
            [f"{folder}: cannot read the trained judge ({exc}); {RETRAIN}"]
        ) from exc
    if meta.get("artefact_version") != ARTEFACT_VERSION or meta.get("features") != FEATURES_VERSION:
        raise KnowledgeError([f"{meta_path}: made by another version of the trainer; {RETRAIN}"])
    if hashlib.sha256(weights).hexdigest() != meta.get("weights_sha256"):
        raise KnowledgeError([f"{weights_path}: SHA-256 differs from {META_FILE}; {RETRAIN}"])
    try:
        with np.load(io.BytesIO(weights)) as arrays:
            artefact = Artefact(
                meta=meta,
                word_idf=np.asarray(arrays["word_idf"], dtype=np.float32),
                char_idf=np.asarray(arrays["char_idf"], dtype=np.float32),
                verdict=_head(arrays, "verdict"),
                clause=_head(arrays, "clause"),
                route=_head(arrays, "route"),
                verdict_classes=tuple(Verdict(v) for v in meta["verdict_classes"]),
                clause_ids=tuple(meta["clause_ids"]),
                faq_embeddings=np.asarray(arrays["faq_embeddings"], dtype=np.float32),
                faq_keys=tuple((str(e), int(i)) for e, i in meta["faq_keys"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise KnowledgeError([f"{weights_path}: unreadable judge weights ({exc})"]) from exc
    shapes = {
        "verdict": (artefact.verdict, len(artefact.verdict_classes)),
        "clause": (artefact.clause, len(artefact.clause_ids)),
        "route": (artefact.route, 1),
    }
    for name, (head, k) in shapes.items():
        if head.dense.shape != (DENSE_DIM, k) or head.lexical.shape != (LEXICAL_DIM, k):
            raise KnowledgeError([f"{weights_path}: head '{name}' has the wrong shape"])
    return artefact


class Judge:
    """Pure and thread-safe after construction."""

    def __init__(self, artefact: Artefact, embedder: Embedder) -> None:
        self.artefact = artefact
        self.embedder = embedder

    def _read(self, dense: Vector, lex: Lexical) -> tuple[dict[Verdict, float], dict[str, float]]:
        a = self.artefact
        verdicts = softmax(a.verdict.logits(dense, lex))
        clauses = sigmoid(a.clause.logits(dense, lex))
        return (
            {v: float(p) for v, p in zip(a.verdict_classes, verdicts, strict=True)},
            {c: float(p) for c, p in zip(a.clause_ids, clauses, strict=True)},
        )

    def judge(self, text: str) -> Judgement:
        a = self.artefact
        sentences = split_sentences(text)
        several = len(sentences) > 1
        vectors = self.embedder.encode([text, *sentences] if several else [text])
        whole = vectors[0]
        per_sentence = vectors[1:] if several else vectors[:1]
        dense = dense_features(whole, per_sentence)
        lex = lexical(text, a.word_idf, a.char_idf)
        verdicts, clauses = self._read(dense, lex)
        route_p = float(sigmoid(a.route.logits(dense, lex))[0])
        parts: list[Part] = []
        if several:
            for sentence, vector in zip(sentences, per_sentence, strict=True):
                part_dense = dense_features(vector, vector[None, :])
                pv, pc = self._read(part_dense, lexical(sentence, a.word_idf, a.char_idf))
                parts.append(Part(sentence, pv, pc))
        else:
            parts.append(Part(text.strip(), verdicts, clauses))
        return Judgement(
            verdicts=verdicts,
            clauses=clauses,
            route={Route.LINE_MANAGER: 1.0 - route_p, Route.DCCT: route_p},
            embedding=whole,
            parts=tuple(parts),
        )

    def nearest_questions(self, embedding: Vector, limit: int) -> list[tuple[str, int, float]]:
        """FAQ paraphrases closest to the message: (entry id, paraphrase index, cosine)."""
        scores = self.artefact.faq_embeddings @ embedding
        order = np.argsort(-scores, kind="stable")[:limit]
        return [(*self.artefact.faq_keys[i], float(scores[i])) for i in order]
