"""Knowledge must not memorise the dev set: no five-word run of a dev message in knowledge/."""

from __future__ import annotations

import json
import re
from collections import Counter

import pytest

from tests.conftest import KNOWLEDGE, ROOT

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
POLICY = ROOT.parent / "shared" / "policy" / "source.txt"


def grams(text: str, n: int = 5) -> set[str]:
    words = re.findall(r"[a-z0-9']+", text.lower())
    return {" ".join(words[i : i + n]) for i in range(len(words) - n + 1)}


@pytest.mark.skipif(not DEV.exists(), reason="shared/eval is not beside this checkout")
def test_knowledge_shares_no_five_word_run_with_a_dev_message() -> None:
    dev = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
    policy = grams(POLICY.read_text()) if POLICY.exists() else set()
    # A run in one dev message only; runs common to several are ordinary English.
    counts = Counter(g for d in dev for g in grams(d["text"]))
    owner = {g: d["id"] for d in dev for g in grams(d["text"])}
    found: dict[str, str] = {}
    for path in KNOWLEDGE.rglob("*"):
        if path.suffix in {".toml", ".jsonl", ".json", ".md"} and "policy" not in path.parts:
            for g in grams(path.read_text(errors="replace")):
                if counts.get(g) == 1 and g not in policy:
                    found[owner[g]] = f"{path.name}: '{g}'"
    assert found == {}, found
