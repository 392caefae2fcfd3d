"""The trained judge: fresh, reproducible, and refused when stale or damaged."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bot.core import KnowledgeError
from bot.core.adviser import MODEL_ID
from bot.core.encoder import Encoder
from bot.core.judge import META_FILE, WEIGHTS_FILE, load_artefact
from bot.core.training import TrainConfig, check_fresh, train
from tests.conftest import KNOWLEDGE


def test_the_shipped_judge_was_trained_from_the_shipped_knowledge() -> None:
    artefact = load_artefact(KNOWLEDGE)
    assert check_fresh(KNOWLEDGE, artefact, MODEL_ID) == []
    assert artefact.meta["model"] == MODEL_ID
    assert artefact.meta["training"]["examples"] >= 2000


@pytest.fixture(scope="module")
def small_knowledge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small but real knowledge folder: one FAQ file and 90 examples."""
    root = tmp_path_factory.mktemp("knowledge")
    for name in ("clauses.md", "signals.toml", "reasons.toml"):
        shutil.copy(KNOWLEDGE / name, root / name)
    shutil.copytree(KNOWLEDGE / "policy", root / "policy")
    (root / "faq").mkdir()
    shutil.copy(KNOWLEDGE / "faq" / "scope.toml", root / "faq" / "scope.toml")
    (root / "examples").mkdir()
    lines: list[str] = []
    for path in sorted((KNOWLEDGE / "examples").glob("*.jsonl")):
        lines += path.read_text().splitlines()[:15]
    (root / "examples" / "sample.jsonl").write_text("\n".join(lines) + "\n")
    return root


def test_training_is_deterministic(small_knowledge: Path, tmp_path: Path) -> None:
    encoder = Encoder.load()
    config = TrainConfig(folds=3)
    train(small_knowledge, encoder, MODEL_ID, config=config, cache_path=tmp_path / "cache.npz")
    first = (small_knowledge / "judge" / WEIGHTS_FILE).read_bytes()
    meta = json.loads((small_knowledge / "judge" / META_FILE).read_text())
    # Again, with the embeddings now coming from the cache: the same bytes.
    train(small_knowledge, encoder, MODEL_ID, config=config, cache_path=tmp_path / "cache.npz")
    assert (small_knowledge / "judge" / WEIGHTS_FILE).read_bytes() == first
    assert json.loads((small_knowledge / "judge" / META_FILE).read_text()) == meta
    assert check_fresh(small_knowledge, load_artefact(small_knowledge), MODEL_ID) == []


def test_an_edited_example_makes_the_judge_stale(small_knowledge: Path, tmp_path: Path) -> None:
    copy = tmp_path / "k"
    shutil.copytree(small_knowledge, copy)
    artefact = load_artefact(copy)
    sample = copy / "examples" / "sample.jsonl"
    sample.write_text(sample.read_text().replace('"ok"', '"caution"', 1))
    problems = check_fresh(copy, artefact, MODEL_ID)
    assert len(problems) == 1
    assert "stale" in problems[0]
    assert "knowledge train" in problems[0]


def test_damaged_weights_are_refused_naming_the_file(small_knowledge: Path, tmp_path: Path) -> None:
    copy = tmp_path / "k"
    shutil.copytree(small_knowledge, copy)
    weights = copy / "judge" / WEIGHTS_FILE
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(KnowledgeError) as caught:
        load_artefact(copy)
    assert str(weights) in caught.value.problems[0]


def test_a_missing_judge_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="knowledge train"):
        load_artefact(tmp_path)
