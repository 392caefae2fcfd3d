"""Calibrate when a DCCT ruling applies to a new message (bot/core/rulings.py: MATCH, …).

Two measurements on the labelled corpus, whose families are scenarios written as
minimal pairs (one detail flips the verdict), so both are harsher than real use, where
the next asker mostly rewords the ruled question:

1. Every pair of examples above a cosine: if one were a ruling and the other the next
   message, would its verdict be one the other's label accepts, and how many pairs
   would turn a not-OK case into "OK" (dangerous)?
2. Every held-out example as the next asker, its nearest other example as the ruling,
   the rule as the adviser applies it (signals veto a gentler ruling, a gentler ruling
   needs `MATCH_GENTLER`): how many askers it answers, how often the ruling is right,
   how often the adviser alone is right on the same askers, and the dangerous answers.

    .venv/bin/python bench/calibrate_rulings.py [--cache .cache/judge-embeddings.npz]

Measured on 5,960 examples (1,410 held out):

    1. pairs   cosine  pairs  compatible  dangerous
               0.80     110     80.9%         4
               0.82      77     83.1%         0
               0.84      55     83.6%         0
               0.88      22     90.9%         0
    2. askers  match  gentler  answered  ruling right  adviser right  dangerous
               0.80    0.88       24          21            22            0
               0.84    0.88       15          13            14            0
               0.86    0.88        8           7             7            0
               0.88    0.88        6           5             5            0
               0.78    0.78       49          39            39            1   (one bar for all)

The last dangerous pair is at 0.820 ("Sad news about …" / "Not going to pretend I'm sad
about …"); MATCH = 0.84 keeps a margin above it, and a ruling gentler than the
adviser's own answer needs 0.88, where nine pairs in ten agree. Plain rewordings of a
short question measure 0.78–0.90, so a ruling answers close rewordings, not neighbours.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.adviser import RAISES, STRICTNESS, Adviser  # noqa: E402
from bot.core.examples import Example, load_examples  # noqa: E402
from bot.core.features import EMBEDDING_DIM  # noqa: E402
from bot.core.rulings import VERDICTS  # noqa: E402
from bot.core.signals import scan  # noqa: E402
from bot.core.training import EmbeddingCache  # noqa: E402
from bot.core.types import Verdict  # noqa: E402

DANGER = {Verdict.OK, Verdict.NOT_OK}


def pairs_table(examples: list[Example], vectors: np.ndarray) -> None:
    scores = vectors @ vectors.T
    upper = np.triu_indices(len(examples), 1)
    flat = scores[upper]
    print(f"{'cosine':>7} {'pairs':>6} {'compatible':>11} {'dangerous':>10}")
    for cut in (0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90, 0.92):
        chosen = np.nonzero(flat >= cut)[0]
        both = dangerous = 0
        for i, j in zip(upper[0][chosen], upper[1][chosen], strict=True):
            a, b = examples[i], examples[j]
            both += a.verdict in b.accepted and b.verdict in a.accepted
            dangerous += {a.verdict, b.verdict} == DANGER
        share = 100 * both / max(1, len(chosen))
        print(f"{cut:>7.2f} {len(chosen):>6} {share:>10.1f}% {dangerous:>10}")


def askers_table(adviser: Adviser, examples: list[Example], vectors: np.ndarray) -> None:
    can_rule = np.array([e.verdict in VERDICTS for e in examples])
    rows = []
    askers = [i for i, e in enumerate(examples) if e.split == "heldout"]
    for done, i in enumerate(askers, start=1):
        example = examples[i]
        own = adviser.advise(example.text).verdict
        hits = scan(adviser.lexicon.signals, example.text)
        scores = np.where(can_rule, vectors @ vectors[i], -1.0)
        scores[i] = -1.0
        j = int(np.argmax(scores))
        floor = max(
            (STRICTNESS[RAISES[h.signal.severity]] for h in hits if h.signal.severity in RAISES),
            default=-1,
        )
        rows.append((example, examples[j], float(scores[j]), own, floor))
        if done % 200 == 0:
            print(f"  advised {done}/{len(askers)}", flush=True)
    print(f"{'match':>6} {'gentler':>8} {'answered':>9} {'ruling right':>13} "
          f"{'adviser right':>14} {'dangerous':>10}")  # fmt: skip
    for match in (0.78, 0.80, 0.82, 0.84, 0.86, 0.88, 0.90):
        for gentler in sorted({match, 0.88, 0.90, 0.92}):
            if gentler < match:
                continue
            answered = right = adviser_right = dangerous = 0
            for asker, ruling, score, own, floor in rows:
                strict = STRICTNESS[ruling.verdict]
                if score < match or floor > strict:
                    continue
                softer = strict < STRICTNESS[own] if own in STRICTNESS else strict == 0
                if softer and score < gentler:
                    continue
                answered += 1
                right += ruling.verdict in asker.accepted
                adviser_right += own in asker.accepted
                dangerous += ruling.verdict is Verdict.OK and asker.verdict is Verdict.NOT_OK
            print(f"{match:>6.2f} {gentler:>8.2f} {answered:>9} {right:>13} "
                  f"{adviser_right:>14} {dangerous:>10}")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cache", type=Path, default=ROOT / ".cache" / "judge-embeddings.npz")
    args = parser.parse_args()
    adviser = Adviser.from_directory(ROOT / "knowledge")
    examples, problems = load_examples(ROOT / "knowledge", set(adviser.knowledge.clauses))
    assert not problems, problems
    cache = EmbeddingCache(args.cache, adviser.judge.embedder)
    vectors = cache.dense([e.text for e in examples])[:, :EMBEDDING_DIM]
    print(f"{len(examples)} examples\n\n1. every pair of examples above a cosine")
    pairs_table(examples, vectors)
    print("\n2. held-out askers and their nearest example as the ruling")
    askers_table(adviser, examples, vectors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
