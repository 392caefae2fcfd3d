"""`python -m bot knowledge …`: check, train, evaluate, curve, split, export, diff, reviewed.

The tools a policy officer uses on knowledge/: validate every file (naming the file,
entry and field of each problem), retrain the judge after editing the examples, measure
it on the held-out split, see how the score grows with the corpus, export the DCCT's
rulings from the database, and see what a change of the policy's wording touches.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
import json
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import TextIO

from bot.core.adviser import MODEL_ID, Adviser
from bot.core.encoder import Encoder, default_model_dir
from bot.core.evaluation import score_adviser
from bot.core.examples import FIELDS, example_files, load_examples
from bot.core.explain import load_reasons
from bot.core.judge import load_artefact
from bot.core.knowledge import KnowledgeError, coverage, load_knowledge
from bot.core.policy import CHANGES_FILE, load_changes, render_changes, review_note
from bot.core.rulings import load_rulings, merge_rulings
from bot.core.signals import load_lexicon
from bot.core.smalltalk import entry_problems, load_smalltalk, misread_examples
from bot.core.training import TrainConfig, check_fresh, learning_curve, train
from bot.core.types import PolicyChange
from bot.store.database import Database

HELDOUT_PERCENT = 22  # share of families held out, by a hash of the family's name


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    knowledge = sub.add_parser("knowledge", help="check, train and measure the knowledge")
    commands = knowledge.add_subparsers(dest="knowledge_command", required=True)
    commands.add_parser("check", help="validate every knowledge file and the trained judge")
    trainer = commands.add_parser("train", help="train the judge from the examples and FAQ")
    trainer.add_argument(
        "--cache", type=Path, default=Path(".cache/judge-embeddings.npz"),
        help="embedding cache, so a retrain only embeds new text (default: %(default)s)",
    )  # fmt: skip
    evaluate = commands.add_parser("evaluate", help="score the judge on a split of the examples")
    evaluate.add_argument("--split", default="heldout", choices=("heldout", "train"))
    evaluate.add_argument("--show-misses", action="store_true", help="list every wrong answer")
    commands.add_parser(
        "split", help='put new example families (split "") into train or heldout, by family'
    )
    curve = commands.add_parser(
        "curve", help="learning curve: held-out score against the number of training examples"
    )
    curve.add_argument("--fractions", default="0.125,0.25,0.5,1", help="shares of families")
    curve.add_argument("--cache", type=Path, default=Path(".cache/judge-embeddings.npz"))
    commands.add_parser(
        "agreement", help="how often the two blind labellings (labelling/first, second) agree"
    )
    export = commands.add_parser(
        "export", help="write the DCCT's rulings in force into rulings/rulings.jsonl"
    )
    export.add_argument(
        "--database",
        help="a SQLite file, or a sqlite:/// or postgresql:// URL (default: the bot's, from "
        "BOT_DATABASE_URL or BOT_DATABASE_PATH)",
    )
    diff = commands.add_parser(
        "diff", help="clauses whose wording changed between OLD and NEW, and what cites them"
    )
    diff.add_argument("old", help="a knowledge folder, or a git revision (e.g. v1.4.0, HEAD~1)")
    diff.add_argument("new", nargs="?", help="the same (default: the knowledge folder in use)")
    diff.add_argument(
        "--record", action="store_true",
        help="note the change in NEW's policy/changes.toml, for review (NEW must be a folder)",
    )  # fmt: skip
    diff.add_argument("--date", type=date.fromisoformat, help="the change's date (default today)")
    diff.add_argument(
        "--database", help="also list its rulings, as for export (default: the bot's, if any)"
    )
    reviewed = commands.add_parser(
        "reviewed", help="record that what cites a policy change has been reviewed"
    )
    reviewed.add_argument("version", help="the policy version of the change, sha256:…")
    reviewed.add_argument("--date", type=date.fromisoformat, help="default today")


def run(args: argparse.Namespace, directory: Path, out: TextIO) -> int:
    command = args.knowledge_command
    if command == "check":
        return check(directory, out)
    if command == "split":
        return assign_splits(directory, out)
    if command == "agreement":
        return agreement(directory, out)
    if command == "curve":
        fractions = [float(f) for f in args.fractions.split(",")]
        out.write(f"{'examples':>9} {'held-out score':>15} {'verdict':>8} {'dangerous':>10}\n")
        for row in learning_curve(directory, Encoder.load(default_model_dir()), fractions,
                                  cache_path=args.cache):  # fmt: skip
            out.write(
                f"{row['examples']:>9} {row['score']:>14.1f}% {row['verdict']:>7.1f}% "
                f"{row['dangerous']:>10}\n"
            )
        return 0
    if command == "train":
        return train_judge(directory, args.cache, out)
    if command == "export":
        return export_rulings(directory, args.database, out)
    if command == "diff":
        return diff_knowledge(directory, args, out)
    if command == "reviewed":
        return mark_reviewed(directory, args.version, args.date or date.today(), out)
    return evaluate(directory, args.split, args.show_misses, out)


def open_database(spec: str | Path | None) -> Database | str:
    """The database `spec` names (a SQLite file, or a sqlite:/// or postgresql:// URL;
    by default the bot's own, from its settings), or why there is none to read."""
    from bot.clock import SystemClock
    from bot.settings import Settings
    from bot.store.connect import (
        DatabaseUrlError,
        database_from_settings,
        database_from_url,
        sqlite_path,
    )
    from bot.store.sqlite import SqliteDatabase

    if spec is None:
        settings = Settings.from_env()
        if settings.store.database_url:
            return database_from_settings(settings, SystemClock())
        spec = settings.store.database_path
    path: Path | None = spec if isinstance(spec, Path) else None
    if isinstance(spec, str):
        try:
            path = sqlite_path(spec) if "://" in spec else Path(spec)
            if path is None:
                return database_from_url(spec)
        except DatabaseUrlError as exc:
            return str(exc)
    assert path is not None
    if not path.is_file():
        return (
            f"no database at {path} (give --database, or set BOT_DATABASE_URL or BOT_DATABASE_PATH)"
        )
    return SqliteDatabase(path)


def check(directory: Path, out: TextIO) -> int:
    """Every file, every field; then whether the judge was trained from these files."""
    problems: list[str] = []
    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as exc:
        _report(exc.problems, out)
        return 1
    clause_ids = set(knowledge.clauses)
    for loader in (
        lambda: load_lexicon(directory / "signals.toml", clause_ids),
        lambda: load_reasons(directory / "reasons.toml", clause_ids),
    ):
        try:
            loader()
        except KnowledgeError as exc:
            problems += exc.problems
    examples, example_problems = load_examples(directory, clause_ids)
    problems += example_problems
    rulings, ruling_problems = load_rulings(directory, clause_ids)
    problems += ruling_problems
    try:
        smalltalk = load_smalltalk(directory / "smalltalk.toml")
        problems += entry_problems(smalltalk, {e.id: e.verdict for e in knowledge.entries})
        problems += misread_examples(smalltalk, examples)
    except KnowledgeError as exc:
        problems += exc.problems
    try:
        artefact = load_artefact(directory)
        problems += check_fresh(directory, artefact, MODEL_ID)
    except KnowledgeError as exc:
        problems += exc.problems
    cover = coverage(knowledge)
    if problems:
        _report(problems, out)
        return 1
    splits = Counter(e.split for e in examples)
    families = {e.family for e in examples}
    out.write(
        f"knowledge OK: {len(knowledge.entries)} FAQ entries, {len(knowledge.clauses)} clauses, "
        f"{len(examples)} examples in {len(families)} families (train {splits['train']}, "
        f"held out {splits['heldout']}), {len(rulings)} DCCT ruling(s), judge trained on these "
        f"files, policy {knowledge.policy_version}\n"
    )
    for change in knowledge.changes:
        if change.under_review:
            out.write(
                f"under review: the change of {', '.join(change.clauses)} on "
                f"{change.changed_on} ({change.version}); answers citing them say: "
                f"{review_note(change)}\n"
            )
    if cover.uncovered:
        out.write("clauses with no FAQ entry: " + ", ".join(cover.uncovered) + "\n")
        return 1
    return 0


def _report(problems: list[str], out: TextIO) -> None:
    out.write(f"knowledge has {len(problems)} problem(s):\n")
    for problem in problems:
        out.write(f"  {problem}\n")


def assign_splits(directory: Path, out: TextIO) -> int:
    """Fill in `split` for families that have none: a family already split keeps its split;
    a new one goes to heldout when its name hashes into the held-out share."""
    known: dict[str, str] = {}
    files = example_files(directory)
    rows_by_file = []
    for path in files:
        rows = [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        rows_by_file.append((path, rows))
        for row in rows:
            if row.get("split") in ("train", "heldout"):
                known.setdefault(str(row.get("family")), row["split"])
    changed = 0
    for path, rows in rows_by_file:
        touched = False
        for row in rows:
            if row.get("split") in ("train", "heldout"):
                continue
            family = str(row.get("family"))
            if family not in known:
                bucket = int(hashlib.sha256(family.encode()).hexdigest(), 16) % 100
                known[family] = "heldout" if bucket < HELDOUT_PERCENT else "train"
            row["split"] = known[family]
            changed += 1
            touched = True
        if touched:
            ordered = [{k: row[k] for k in FIELDS if k in row} for row in rows]
            path.write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered), encoding="utf-8"
            )
    out.write(f"assigned a split to {changed} example(s)\n")
    return 0


def _labels(folder: Path) -> dict[str, dict[str, object]]:
    rows: dict[str, dict[str, object]] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows[str(row["id"])] = row
    return rows


def agreement(directory: Path, out: TextIO) -> int:
    """Compatible: each labeller's verdict is one the other accepts (verdict or alt)."""
    first = _labels(directory / "labelling" / "first")
    second = _labels(directory / "labelling" / "second")
    shared = sorted(set(first) & set(second))
    if not shared:
        out.write("no double-labelled examples under labelling/first and labelling/second\n")
        return 1
    tally: dict[str, Counter[str]] = {}
    for ident in shared:
        a, b = first[ident], second[ident]
        accepts_a = {a["verdict"], *a.get("alt", [])}  # type: ignore[misc]
        accepts_b = {b["verdict"], *b.get("alt", [])}  # type: ignore[misc]
        clauses_a = set(a.get("clauses", []))  # type: ignore[call-overload]
        clauses_b = set(b.get("clauses", []))  # type: ignore[call-overload]
        for group in (ident.split("-")[0], "all"):
            counts = tally.setdefault(group, Counter())
            counts["n"] += 1
            counts["compatible"] += a["verdict"] in accepts_b or b["verdict"] in accepts_a
            counts["exact"] += a["verdict"] == b["verdict"]
            counts["clauses"] += bool(clauses_a & clauses_b) or a["verdict"] == "out_of_scope"
    for group in sorted(tally, key=lambda g: (g == "all", g)):
        c = tally[group]
        out.write(
            f"{group:8} {c['n']:5} double-labelled: compatible verdicts "
            f"{100 * c['compatible'] / c['n']:5.1f}%, same verdict "
            f"{100 * c['exact'] / c['n']:5.1f}%, a shared clause "
            f"{100 * c['clauses'] / c['n']:5.1f}%\n"
        )
    missing = sorted(set(first) ^ set(second))
    if missing:
        out.write(f"{len(missing)} example(s) have only one labelling, e.g. {missing[0]}\n")
    return 0


def train_judge(directory: Path, cache: Path, out: TextIO) -> int:
    started = time.monotonic()
    encoder = Encoder.load(default_model_dir())

    def progress(message: str) -> None:
        out.write(message + "\n")
        out.flush()

    meta = train(
        directory, encoder, MODEL_ID, config=TrainConfig(), cache_path=cache, progress=progress
    )
    out.write(
        f"trained in {time.monotonic() - started:.0f} s on {meta['training']['examples']} examples "
        f"and {meta['training']['faq_paraphrases']} FAQ paraphrases; thresholds "
        f"{meta['thresholds']}; wrote {directory / 'judge'}\n"
    )
    return 0


def evaluate(directory: Path, split: str, show_misses: bool, out: TextIO) -> int:
    adviser = Adviser.from_directory(directory)
    examples, problems = load_examples(directory, set(adviser.knowledge.clauses))
    if problems:
        _report(problems, out)
        return 1
    result = score_adviser(adviser, (e for e in examples if e.split == split))
    out.write(
        "by kind: "
        + "  ".join(
            f"{k} {100 * result.by_kind[k] / result.kind_n[k]:.0f}%/{result.kind_n[k]}"
            for k in sorted(result.kind_n)
        )
        + "\n"
    )
    if show_misses:
        for example, answer in result.misses:
            out.write(
                f"MISS {example.id} | {example.verdict.value} {list(example.clauses)} | "
                f"{answer.verdict.value} {list(answer.clauses)} | {example.text[:120]}\n"
            )
    out.write(f"{split}: {result.line()}\n")
    return 0


def export_rulings(directory: Path, database: str | Path | None, out: TextIO) -> int:
    """The rulings in force, from the database and the file, written back to the file."""
    from bot.rulings.export import stored_rulings, write_rulings

    try:
        knowledge = load_knowledge(directory)
    except KnowledgeError as exc:
        _report(exc.problems, out)
        return 1
    exported, problems = load_rulings(directory, set(knowledge.clauses))
    if problems:  # never overwrite a file someone is editing with what we failed to read
        _report(problems, out)
        return 1
    db = open_database(database)
    if isinstance(db, str):
        out.write(f"error: {db}\n")
        return 1
    rulings = asyncio.run(stored_rulings(db, tuple(exported)))
    path = write_rulings(directory, rulings)
    kept = {r.id for r in rulings}
    dropped = sorted(r.id for r in exported if r.id not in kept)
    out.write(
        f"exported {len(rulings)} ruling(s) to {path}"
        + (f"; removed (rejected or withdrawn): {', '.join(dropped)}" if dropped else "")
        + "\nnext: python -m bot knowledge check, then review and commit the file\n"
    )
    return 0


def diff_knowledge(directory: Path, args: argparse.Namespace, out: TextIO) -> int:
    from bot.knowledge_diff import DiffError, materialise, read_snapshot, report
    from bot.rulings.export import stored_rulings

    with tempfile.TemporaryDirectory(prefix="knowledge-diff-") as scratch:
        try:
            old_dir = materialise(args.old, directory, Path(scratch))
            new_dir = materialise(args.new, directory, Path(scratch)) if args.new else directory
            old = read_snapshot(old_dir, args.old)
            new = read_snapshot(new_dir, args.new or str(directory))
        except DiffError as exc:
            out.write(f"error: {exc}\n")
            return 2
        db = open_database(args.database)
        if isinstance(db, str) and args.database:
            out.write(f"error: {db}\n")
            return 2
        stored = [] if isinstance(db, str) else asyncio.run(stored_rulings(db))
        # An exported ruling is listed once, from the file; the database adds the others.
        stored = merge_rulings([], stored, [k.split(" ")[0] for k in new.rulings])
        diff = report(old, new, out, stored)
        if not args.record or not diff.changed:
            if diff.changed:
                out.write("\nto note this change for review: add --record\n")
            return 0
        if args.new and not (Path(args.new) / "clauses.md").is_file():
            out.write("error: --record writes into NEW, which must be a knowledge folder\n")
            return 2
        return _record(new_dir, new.policy_version, diff.changed, args.date or date.today(), out)


def _record(directory: Path, version: str, clauses: tuple[str, ...], day: date, out: TextIO) -> int:
    knowledge_clauses = set(read_clause_ids(directory))
    changes, problems = load_changes(directory, knowledge_clauses)
    if problems:
        _report(problems, out)
        return 1
    earlier = next((c for c in changes if c.version == version), None)
    merged = tuple(dict.fromkeys((*(earlier.clauses if earlier else ()), *clauses)))
    change = PolicyChange(version, earlier.changed_on if earlier else day, merged, None)
    kept = [c for c in changes if c.version != version]
    path = directory / CHANGES_FILE
    path.write_text(render_changes([*kept, change]), encoding="utf-8")
    out.write(
        f"recorded in {path}: {version} changed {', '.join(merged)}; until "
        f"`python -m bot knowledge reviewed {version}`, answers citing them say: "
        f"{review_note(change)}\n"
    )
    return 0


def read_clause_ids(directory: Path) -> list[str]:
    from bot.core.knowledge import parse_clauses

    register = directory / "clauses.md"
    clauses, _ = parse_clauses(register.read_text(encoding="utf-8"), str(register))
    return list(clauses)


def mark_reviewed(directory: Path, version: str, day: date, out: TextIO) -> int:
    changes, problems = load_changes(directory, set(read_clause_ids(directory)))
    if problems:
        _report(problems, out)
        return 1
    matching = [c for c in changes if c.version == version]
    if not matching:
        known = ", ".join(c.version for c in changes) or "none"
        out.write(f"error: no change {version} in {directory / CHANGES_FILE} (recorded: {known})\n")
        return 1
    updated = [
        dataclasses.replace(c, reviewed_on=day) if c.version == version else c for c in changes
    ]
    (directory / CHANGES_FILE).write_text(render_changes(updated), encoding="utf-8")
    out.write(f"{version} reviewed on {day}: answers citing its clauses no longer carry the note\n")
    return 0
