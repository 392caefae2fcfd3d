"""Latency, start-up and memory of the full judge, beside the lexical-only path, in one run.

    python bench/bench_core.py [--rounds N]

Per message: `Adviser.advise` end to end (encoder, heads, signals, composition) for
questions of up to 200 characters and for 1,000-character pasted drafts, against the
lexical-only path over the same texts (hashed n-grams, the linear heads' lexical rows and
the signals, no encoder): the baseline the ratios are printed against. Then where the time
goes (tokeniser, encoder layers, heads and signals), start-up (a fresh process loading
everything) and resident memory. Targets on the 2-core machine: p99 <= 50 ms (200 chars),
<= 250 ms (1,000 chars), start-up <= 3 s, RSS <= 400 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from bot.core import Adviser
from bot.core.features import lexical
from bot.core.signals import scan

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261201


def texts(adviser: Adviser, rng: random.Random) -> tuple[list[str], list[str]]:
    """Short questions from the corpus (<= 200 chars), and drafts built to 1,000 chars."""
    from bot.core.examples import load_examples

    examples, _ = load_examples(ROOT / "knowledge", set(adviser.knowledge.clauses))
    short = [e.text for e in examples if 60 <= len(e.text) <= 200]
    long_pool = [e.text for e in examples if len(e.text) >= 300]
    drafts = []
    for _ in range(40):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < 1000:
            parts.append(rng.choice(long_pool))
        drafts.append(" ".join(parts)[:1000])
    return rng.sample(short, 80), drafts


def percentiles(run: Callable[[str], object], items: list[str], rounds: int) -> tuple[float, float]:
    for text in items[:5]:
        run(text)  # warm caches and BLAS threads
    samples = []
    for _ in range(rounds):
        for text in items:
            start = time.perf_counter()
            run(text)
            samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(0.99 * (len(samples) - 1))]


def lexical_only(adviser: Adviser) -> Callable[[str], object]:
    artefact = adviser.judge.artefact

    def run(text: str) -> object:
        lex = lexical(text, artefact.word_idf, artefact.char_idf)
        logits = lex.values @ artefact.verdict.lexical[lex.indices] + artefact.verdict.bias
        return int(np.argmax(logits)), scan(adviser.lexicon.signals, text)

    return run


def breakdown(adviser: Adviser, drafts: list[str]) -> dict[str, float]:
    """Mean milliseconds per 1,000-character draft in each stage."""
    encoder = adviser.judge.embedder
    tokeniser = getattr(encoder, "tokenizer", None)
    stages: dict[str, list[float]] = {
        "tokeniser": [],
        "encoder and heads": [],
        "signals and text": [],
    }
    for text in drafts:
        start = time.perf_counter()
        if tokeniser is not None:
            tokeniser.encode(text)
        tokenised = time.perf_counter()
        adviser.judge.judge(text)
        judged = time.perf_counter()
        adviser.advise(text)
        advised = time.perf_counter()
        stages["tokeniser"].append((tokenised - start) * 1000)
        stages["encoder and heads"].append((judged - tokenised) * 1000)
        # advise() judges again, then reads the signals and composes: the difference.
        stages["signals and text"].append(
            max(0.0, (advised - judged) - (judged - tokenised)) * 1000
        )
    return {k: statistics.mean(v) for k, v in stages.items()}


def startup() -> tuple[float, float]:
    """A fresh interpreter: import, load knowledge, judge and encoder, answer once."""
    code = (
        "import time, resource; t = time.perf_counter(); from bot.core import Adviser; "
        "a = Adviser.from_directory(); a.advise('can I post a photo of my dog?'); "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    return float(out[0]), float(out[1]) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print one JSON line too")
    args = parser.parse_args()
    adviser = Adviser.from_directory()
    short, drafts = texts(adviser, random.Random(SEED))
    base_short = percentiles(lexical_only(adviser), short, args.rounds)
    base_draft = percentiles(lexical_only(adviser), drafts, args.rounds)
    full_short = percentiles(adviser.advise, short, args.rounds)
    full_draft = percentiles(adviser.advise, drafts, args.rounds)
    seconds, start_rss = startup()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stages = breakdown(adviser, drafts[:10])
    rows = [
        ("question <=200 chars", full_short, base_short, 50.0),
        ("draft 1,000 chars", full_draft, base_draft, 250.0),
    ]
    print(f"{'':24} {'full p50':>9} {'full p99':>9} {'lexical p99':>12} {'ratio':>7} {'target':>7}")
    for name, (p50, p99), (_, b99), target in rows:
        print(
            f"{name:24} {p50:8.1f}ms {p99:8.1f}ms {b99:11.2f}ms {p99 / b99:6.0f}x {target:6.0f}ms"
        )
    print(
        f"start-up {seconds:.2f} s (target 3 s); RSS after start-up {start_rss:.0f} MB, "
        f"after this run {rss:.0f} MB (target 400 MB)"
    )
    print("per 1,000-char draft: " + ", ".join(f"{k} {v:.1f} ms" for k, v in stages.items()))
    if args.json:
        print(json.dumps({"short": full_short, "draft": full_draft, "startup_s": seconds,
                          "rss_mb": rss, "stages": stages}))  # fmt: skip


if __name__ == "__main__":
    main()
