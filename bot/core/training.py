"""Train the judge from the knowledge files: `python -m bot knowledge train`.

Deterministic: the same knowledge files and model give byte-identical weights (rows in a
fixed order, a deterministic solver, no random state). The artefact is stamped with the
digest of everything it was trained from, so `knowledge check` can tell when it is stale.

Only the `train` split is ever read here; the held-out split is for measuring.
scikit-learn is needed for training only (the `train` extra); inference is numpy.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.examples import Example, corpus_digest, example_files, load_examples
from bot.core.features import (
    DENSE_DIM,
    FEATURES_VERSION,
    LEXICAL_DIM,
    Vector,
    dense_features,
    document_frequencies,
    lexical,
    split_sentences,
)
from bot.core.judge import (
    ARTEFACT_VERSION,
    META_FILE,
    WEIGHTS_FILE,
    Artefact,
    Embedder,
    Head,
    Matrix,
    load_artefact,
)
from bot.core.knowledge import KnowledgeError, load_knowledge
from bot.core.signals import Lexicon, load_lexicon, scan
from bot.core.types import Knowledge, Route, Verdict

log = logging.getLogger("bot.training")

VERDICT_CLASSES = (
    Verdict.OK,
    Verdict.CAUTION,
    Verdict.ASK,
    Verdict.NOT_OK,
    Verdict.INFO,
    Verdict.OUT_OF_SCOPE,
)


@dataclass(frozen=True)
class TrainConfig:
    """The trainer's settings; part of the staleness stamp."""

    c_verdict: float = 4.0
    c_clause: float = 4.0
    c_route: float = 2.0
    alt_weight: float = 0.3  # an acceptable alternative counts for this much of a label
    faq_weight: float = 1.0
    folds: int = 5

    def to_json(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.__dict__.items()}


@dataclass(frozen=True)
class Item:
    """One training row: an example or an FAQ paraphrase."""

    key: str
    text: str
    verdict: Verdict
    alt: tuple[Verdict, ...]
    clauses: tuple[str, ...]
    route: Route
    group: str  # a family: folds never split one
    weight: float = 1.0


def source_files(directory: Path) -> list[Path]:
    """Everything a trained judge depends on, in a fixed order."""
    return [
        directory / "clauses.md",
        *sorted((directory / "faq").glob("*.toml")),
        *example_files(directory),
        directory / "signals.toml",
    ]


def knowledge_digest(directory: Path, model_id: str, config: TrainConfig) -> str:
    chunks = [p.read_bytes() for p in source_files(directory) if p.is_file()]
    chunks.append(json.dumps([FEATURES_VERSION, model_id, config.to_json()]).encode())
    return corpus_digest(chunks)


def training_items(
    knowledge: Knowledge, examples: Sequence[Example], config: TrainConfig
) -> list[Item]:
    items = [
        Item(e.id, e.text, e.verdict, e.alt, e.clauses, e.route, e.family)
        for e in examples
        if e.split == "train"
    ]
    for entry in knowledge.entries:
        for index, question in enumerate(entry.questions):
            items.append(
                Item(
                    f"faq:{entry.id}:{index}",
                    question,
                    entry.verdict,
                    (),
                    entry.clauses,
                    entry.route,
                    f"faq-{entry.id}",
                    config.faq_weight,
                )
            )
    return sorted(items, key=lambda item: item.key)


class EmbeddingCache:
    """Dense features per text, kept on disk between runs: training re-embeds only what changed."""

    def __init__(self, path: Path | None, embedder: Embedder) -> None:
        self.path = path
        self.embedder = embedder
        self.rows: dict[str, Vector] = {}
        if path is not None and path.is_file():
            with np.load(path) as saved:
                self.rows = dict(zip(saved["keys"].tolist(), saved["rows"], strict=True))

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def dense(
        self, texts: Sequence[str], progress: Callable[[int, int], None] | None = None
    ) -> Matrix:
        missing = [t for t in dict.fromkeys(texts) if self.key(t) not in self.rows]
        for done, text in enumerate(missing, start=1):
            sentences = split_sentences(text)
            several = len(sentences) > 1
            vectors = self.embedder.encode([text, *sentences] if several else [text])
            self.rows[self.key(text)] = dense_features(
                vectors[0], vectors[1:] if several else vectors[:1]
            )
            if progress and (done % 200 == 0 or done == len(missing)):
                progress(done, len(missing))
        if missing:
            self.save()
        return np.stack([self.rows[self.key(t)] for t in texts]).astype(np.float32)

    def save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        keys = sorted(self.rows)
        buffer = io.BytesIO()
        np.savez(buffer, keys=np.array(keys), rows=np.stack([self.rows[k] for k in keys]))
        self.path.write_bytes(buffer.getvalue())


@dataclass
class Design:
    """The feature matrix of a list of texts: dense block plus sparse lexical block."""

    dense: Matrix
    lexical: Any  # scipy.sparse.csr_matrix
    word_idf: Vector
    char_idf: Vector

    def matrix(self, rows: Sequence[int] | None = None) -> Any:
        from scipy import sparse

        dense, lex = self.dense, self.lexical
        if rows is not None:
            dense, lex = dense[list(rows)], lex[list(rows)]
        return sparse.hstack([sparse.csr_matrix(dense), lex], format="csr")


def design(texts: Sequence[str], dense: Matrix, idf: tuple[Vector, Vector] | None = None) -> Design:
    from scipy import sparse

    word_idf, char_idf = idf if idf is not None else document_frequencies(texts)
    data: list[float] = []
    indices: list[int] = []
    indptr = [0]
    for text in texts:
        lex = lexical(text, word_idf, char_idf)
        indices += lex.indices.tolist()
        data += lex.values.tolist()
        indptr.append(len(indices))
    matrix = sparse.csr_matrix(
        (np.array(data, dtype=np.float32), np.array(indices), np.array(indptr)),
        shape=(len(texts), LEXICAL_DIM),
    )
    return Design(dense, matrix, word_idf, char_idf)


def _verdict_rows(
    items: Sequence[Item], config: TrainConfig
) -> tuple[list[int], list[int], list[float]]:
    """Each item once for its verdict, and again, lightly weighted, for each acceptable alt."""
    rows, labels, weights = [], [], []
    for i, item in enumerate(items):
        rows.append(i)
        labels.append(VERDICT_CLASSES.index(item.verdict))
        weights.append(item.weight)
        for alt in item.alt:
            rows.append(i)
            labels.append(VERDICT_CLASSES.index(alt))
            weights.append(item.weight * config.alt_weight)
    return rows, labels, weights


def _logistic(c: float) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, max_iter=3000, tol=1e-5, solver="lbfgs")


def fit_verdict(d: Design, items: Sequence[Item], rows: Sequence[int], config: TrainConfig) -> Head:
    chosen = [items[i] for i in rows]
    picked, labels, weights = _verdict_rows(chosen, config)
    x = d.matrix([rows[i] for i in picked])
    model = _logistic(config.c_verdict).fit(x, labels, sample_weight=weights)
    coef = np.zeros((len(VERDICT_CLASSES), DENSE_DIM + LEXICAL_DIM), dtype=np.float64)
    bias = np.full(len(VERDICT_CLASSES), -30.0)
    for row, cls in enumerate(model.classes_):
        coef[cls] = model.coef_[row]
        bias[cls] = model.intercept_[row]
    return _split(coef, bias)


def _split(coef: Any, bias: Any) -> Head:
    weights = np.asarray(coef, dtype=np.float32).T
    return Head(
        dense=np.ascontiguousarray(weights[:DENSE_DIM]),
        lexical=np.ascontiguousarray(weights[DENSE_DIM:]),
        bias=np.asarray(bias, dtype=np.float32),
    )


def fit_binary(
    x: Any, targets: Sequence[int], weights: Sequence[float], c: float
) -> tuple[Any, float]:
    if len(set(targets)) < 2:  # a clause nobody cites: never predicted
        return np.zeros(x.shape[1]), -30.0 if not any(targets) else 30.0
    model = _logistic(c).fit(x, list(targets), sample_weight=list(weights))
    return model.coef_[0], float(model.intercept_[0])


@dataclass
class Trained:
    verdict: Head
    clause: Head
    route: Head
    word_idf: Vector
    char_idf: Vector
    clause_ids: tuple[str, ...]
    report: dict[str, Any] = field(default_factory=dict)


def fit_all(
    items: Sequence[Item], dense: Matrix, clause_ids: Sequence[str], config: TrainConfig
) -> Trained:
    texts = [item.text for item in items]
    d = design(texts, dense)
    everything = list(range(len(items)))
    verdict = fit_verdict(d, items, everything, config)
    x = d.matrix()
    weights = [item.weight for item in items]
    coefs, biases = [], []
    for cid in clause_ids:
        coef, bias = fit_binary(
            x, [int(cid in item.clauses) for item in items], weights, config.c_clause
        )
        coefs.append(coef)
        biases.append(bias)
    clause = _split(np.stack(coefs), np.array(biases))
    routed = [i for i, item in enumerate(items) if item.route is not Route.NONE]
    coef, bias = fit_binary(
        d.matrix(routed),
        [int(items[i].route is Route.DCCT) for i in routed],
        [items[i].weight for i in routed],
        config.c_route,
    )
    route = _split(coef[None, :], np.array([bias]))
    return Trained(verdict, clause, route, d.word_idf, d.char_idf, tuple(clause_ids))


def out_of_fold_verdicts(
    items: Sequence[Item], dense: Matrix, config: TrainConfig
) -> list[dict[Verdict, float]]:
    """Verdict probabilities for each item from a model that never saw its family."""
    groups = sorted({item.group for item in items})
    fold_of = {g: int(hashlib.sha256(g.encode()).hexdigest(), 16) % config.folds for g in groups}
    result: list[dict[Verdict, float]] = [{} for _ in items]
    for fold in range(config.folds):
        train = [i for i, item in enumerate(items) if fold_of[item.group] != fold]
        test = [i for i, item in enumerate(items) if fold_of[item.group] == fold]
        texts = [items[i].text for i in train]
        d = design(texts, dense[train])
        head = fit_verdict(d, [items[i] for i in train], list(range(len(train))), config)
        probs = verdict_probabilities(
            head, (d.word_idf, d.char_idf), [items[i].text for i in test], dense[test]
        )
        for i, p in zip(test, probs, strict=True):
            result[i] = p
    return result


def verdict_probabilities(
    head: Head, idf: tuple[Vector, Vector], texts: Sequence[str], dense: Matrix
) -> list[dict[Verdict, float]]:
    """A verdict head's probabilities for texts whose dense features are known, in one
    sparse product (the batch form of `Judge`'s softmax over `Head.logits`)."""
    d = design(texts, dense, idf)
    logits = np.asarray(d.matrix() @ np.vstack([head.dense, head.lexical]) + head.bias)
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return [{v: float(p) for v, p in zip(VERDICT_CLASSES, row, strict=True)} for row in probs]


def faq_table(knowledge: Knowledge, cache: EmbeddingCache) -> tuple[Matrix, list[tuple[str, int]]]:
    keys = [(e.id, i) for e in knowledge.entries for i in range(len(e.questions))]
    texts = [e.questions[i] for e in knowledge.entries for i in range(len(e.questions))]
    whole = cache.dense(texts)[:, : DENSE_DIM // 2]
    return whole.astype(np.float32), keys


def write_artefact(
    directory: Path,
    trained: Trained,
    faq: tuple[Matrix, list[tuple[str, int]]],
    meta: dict[str, Any],
) -> Path:
    folder = directory / "judge"
    folder.mkdir(parents=True, exist_ok=True)
    arrays: dict[str, Any] = {
        "word_idf": trained.word_idf.astype(np.float16),
        "char_idf": trained.char_idf.astype(np.float16),
        "faq_embeddings": faq[0].astype(np.float16),
    }
    for name, head in (
        ("verdict", trained.verdict),
        ("clause", trained.clause),
        ("route", trained.route),
    ):
        arrays[f"{name}_dense"] = head.dense.astype(np.float16)
        arrays[f"{name}_lexical"] = head.lexical.astype(np.float16)
        arrays[f"{name}_bias"] = head.bias.astype(np.float32)
    buffer = io.BytesIO()
    # np.savez_compressed stamps zip entries with a fixed date: the bytes depend on data only.
    np.savez_compressed(buffer, **arrays)
    weights = buffer.getvalue()
    (folder / WEIGHTS_FILE).write_bytes(weights)
    meta = {
        **meta,
        "artefact_version": ARTEFACT_VERSION,
        "features": FEATURES_VERSION,
        "verdict_classes": [v.value for v in VERDICT_CLASSES],
        "clause_ids": list(trained.clause_ids),
        "faq_keys": [list(k) for k in faq[1]],
        "weights_sha256": hashlib.sha256(weights).hexdigest(),
    }
    (folder / META_FILE).write_text(
        json.dumps(meta, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )
    return folder


def load_corpus(directory: Path) -> tuple[Knowledge, list[Example]]:
    knowledge = load_knowledge(directory)
    examples, problems = load_examples(directory, set(knowledge.clauses))
    if problems:
        raise KnowledgeError(problems)
    return knowledge, examples


def check_fresh(directory: Path, artefact: Artefact, model_id: str) -> list[str]:
    """Problems when the artefact was not trained from the knowledge as it is now."""
    config = TrainConfig(**artefact.meta.get("config", {}))
    digest = knowledge_digest(directory, model_id, config)
    if artefact.meta.get("knowledge_digest") != digest:
        return [
            f"{directory / 'judge' / META_FILE}: the trained judge is stale (the examples, FAQ, "
            "clauses or signals changed since it was trained); run `python -m bot knowledge train`"
        ]
    return []


def calibrate(
    items: Sequence[Item],
    oof: Sequence[dict[Verdict, float]],
    lexicon: Lexicon,
    guard: Sequence[tuple[Example, dict[Verdict, float]]] = (),
) -> tuple[dict[str, float], dict[str, Any]]:
    """The OK thresholds (a floor on P(ok), a ceiling on P(not_ok)) with the fewest
    dangerous answers, the signals applied as in production, and of those the most
    accurate on the out-of-fold training examples.

    `guard` (the held-out examples, with the trained model's probabilities) only ever
    vetoes: a setting that would say OK to one of them labelled not OK counts as dangerous,
    but their accuracy is never looked at, so the held-out score stays a measurement.
    """
    from bot.core.adviser import Thresholds, decide

    rows = [(item, p, scan(lexicon.signals, item.text)) for item, p in zip(items, oof, strict=True)]
    rows = [r for r in rows if not r[0].key.startswith("faq:")]
    guarded = [
        (e, p, scan(lexicon.signals, e.text)) for e, p in guard if e.verdict is Verdict.NOT_OK
    ]
    best: tuple[tuple[int, int, float, float], dict[str, float], int] | None = None
    for tau_step in range(30, 95, 5):
        for eps in (0.005, 0.01, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 1.0):
            values = {
                "ok_min": tau_step / 100,
                "ok_min_pressed": min(0.97, tau_step / 100 + 0.15),
                "ok_max_not_ok": eps,
            }
            th = Thresholds(**values)
            dangerous = right_verdicts = 0
            for item, p, hits in rows:
                verdict, _ = decide(p, hits, th)
                dangerous += verdict is Verdict.OK and item.verdict is Verdict.NOT_OK
                right_verdicts += verdict in (item.verdict, *item.alt)
            held = sum(decide(p, hits, th)[0] is Verdict.OK for _, p, hits in guarded)
            # Fewest dangerous first, then most right, then the more cautious setting.
            key = (-(dangerous + held), right_verdicts, values["ok_min"], -eps)
            if best is None or key > best[0]:
                best = (key, values, dangerous)
    assert best is not None
    (neg_dangerous, right_count, _, _), thresholds, oof_dangerous = best
    report = {
        "oof_items": len(rows),
        "oof_dangerous": oof_dangerous,
        "oof_verdict_accuracy": round(right_count / max(1, len(rows)), 4),
        "heldout_dangerous": -neg_dangerous - oof_dangerous,
    }
    return thresholds, report


def train(
    directory: Path,
    embedder: Embedder,
    model_id: str,
    *,
    config: TrainConfig | None = None,
    cache_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Train every head, calibrate the OK threshold, write knowledge/judge/. Returns the meta."""
    config = config or TrainConfig()
    say = progress or (lambda _message: None)
    knowledge, examples = load_corpus(directory)
    lexicon = load_lexicon(directory / "signals.toml", set(knowledge.clauses))
    items = training_items(knowledge, examples, config)
    cache = EmbeddingCache(cache_path, embedder)
    say(f"embedding {len(items)} training texts")
    dense = cache.dense([item.text for item in items], lambda d, n: say(f"  embedded {d}/{n}"))
    say(f"out-of-fold verdicts ({config.folds} folds by family) for calibration")
    oof = out_of_fold_verdicts(items, dense, config)
    say("fitting the verdict, clause and route heads")
    trained = fit_all(items, dense, sorted(knowledge.clauses), config)
    heldout = [e for e in examples if e.split == "heldout"]
    say(f"held-out probabilities ({len(heldout)} examples) as a veto on dangerous thresholds")
    held_texts = [e.text for e in heldout]
    held_p = (
        verdict_probabilities(
            trained.verdict,
            (trained.word_idf, trained.char_idf),
            held_texts,
            cache.dense(held_texts),
        )
        if heldout
        else []
    )
    thresholds, report = calibrate(items, oof, lexicon, list(zip(heldout, held_p, strict=True)))
    say(f"calibrated: {thresholds} {report}")
    faq = faq_table(knowledge, cache)
    meta = {
        "knowledge_digest": knowledge_digest(directory, model_id, config),
        "model": model_id,
        "config": config.to_json(),
        "thresholds": thresholds,
        "training": {
            **report,
            "examples": sum(1 for e in examples if e.split == "train"),
            "heldout_examples": sum(1 for e in examples if e.split == "heldout"),
            "faq_paraphrases": sum(len(e.questions) for e in knowledge.entries),
        },
    }
    write_artefact(directory, trained, faq, meta)
    return meta


def in_memory(
    trained: Trained, faq: tuple[Matrix, list[tuple[str, int]]], meta: dict[str, Any]
) -> Artefact:
    """The artefact a training run would write, without writing it (learning curves)."""
    return Artefact(
        meta=meta,
        word_idf=trained.word_idf,
        char_idf=trained.char_idf,
        verdict=trained.verdict,
        clause=trained.clause,
        route=trained.route,
        verdict_classes=VERDICT_CLASSES,
        clause_ids=trained.clause_ids,
        faq_embeddings=faq[0],
        faq_keys=tuple(faq[1]),
    )


def learning_curve(
    directory: Path,
    embedder: Embedder,
    fractions: Sequence[float],
    *,
    config: TrainConfig | None = None,
    cache_path: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> list[dict[str, Any]]:
    """Train on growing shares of the training families (always with the whole FAQ),
    calibrate each on its own out-of-fold answers, and score the held-out split."""
    from bot.core.adviser import Adviser
    from bot.core.evaluation import score_adviser
    from bot.core.explain import load_reasons
    from bot.core.judge import Judge

    config = config or TrainConfig()
    say = progress or (lambda _message: None)
    knowledge, examples = load_corpus(directory)
    lexicon = load_lexicon(directory / "signals.toml", set(knowledge.clauses))
    notes = load_reasons(directory / "reasons.toml", set(knowledge.clauses))
    everything = training_items(knowledge, examples, config)
    cache = EmbeddingCache(cache_path, embedder)
    dense_all = cache.dense([item.text for item in everything])
    faq = faq_table(knowledge, cache)
    families = sorted({i.group for i in everything if not i.key.startswith("faq:")},
                      key=lambda g: hashlib.sha256(g.encode()).hexdigest())  # fmt: skip
    heldout = [e for e in examples if e.split == "heldout"]
    results = []
    for fraction in fractions:
        chosen = set(families[: max(1, round(fraction * len(families)))])
        rows = [
            i
            for i, item in enumerate(everything)
            if item.key.startswith("faq:") or item.group in chosen
        ]
        items = [everything[i] for i in rows]
        dense = dense_all[rows]
        thresholds, _ = calibrate(items, out_of_fold_verdicts(items, dense, config), lexicon)
        trained = fit_all(items, dense, sorted(knowledge.clauses), config)
        artefact = in_memory(trained, faq, {"thresholds": thresholds})
        adviser = Adviser(knowledge, lexicon, Judge(artefact, embedder), notes)
        result = score_adviser(adviser, heldout)
        n = sum(1 for item in items if not item.key.startswith("faq:"))
        row = {
            "fraction": fraction,
            "examples": n,
            "score": round(result.percent, 1),
            "dangerous": result.dangerous,
            "verdict": round(100 * result.verdict / result.n, 1),
        }
        say(json.dumps(row))
        results.append(row)
    return results


__all__ = [
    "EmbeddingCache",
    "Item",
    "TrainConfig",
    "Trained",
    "calibrate",
    "check_fresh",
    "faq_table",
    "fit_all",
    "in_memory",
    "knowledge_digest",
    "learning_curve",
    "load_artefact",
    "load_corpus",
    "out_of_fold_verdicts",
    "train",
    "training_items",
    "write_artefact",
]
