"""Every card the bot can send validates against the Adaptive Cards 1.5 schema, offline."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from bot.conversation import cards
from bot.conversation.labels import VERDICTS
from bot.core import Adviser
from bot.core.types import Verdict
from tests.conftest import ROOT

SCHEMA = json.loads((ROOT / "tests/data/schemas/adaptive-card-1.5.json").read_text())
VALIDATOR = jsonschema.Draft6Validator(SCHEMA)
STATE = "sealed-question-and-advice"


def validate(card: dict[str, Any]) -> None:
    # "msteams" is a documented Teams host extension, outside the core schema.
    core = {k: v for k, v in card.items() if k != "msteams"}
    errors = sorted(VALIDATOR.iter_errors(core), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message[:200]}" for e in errors[:5])


def test_schema_really_rejects_a_bad_card() -> None:
    with pytest.raises(AssertionError):
        validate({"type": "AdaptiveCard", "version": "1.5", "body": [{"type": "Blink"}]})


def test_answer_card_for_every_faq_entry_is_valid(adviser: Adviser) -> None:
    for entry in adviser.knowledge.entries:
        advice = adviser.advise(entry.questions[0])
        validate(cards.answer_card(advice, adviser.knowledge, state=STATE))
        validate(cards.answer_card(advice, adviser.knowledge, state=STATE, feedback="x"))


def test_middle_band_card_with_alternatives_is_valid(adviser: Adviser) -> None:
    advice = adviser.advise("posting about my job")
    assert advice.alternatives, "expected a vague question to offer alternatives"
    card = cards.answer_card(advice, adviser.knowledge, state=STATE)
    validate(card)
    assert "Did you mean:" in json.dumps(card)


def test_welcome_and_notice_cards_are_valid() -> None:
    validate(cards.welcome_card(30))
    validate(cards.notice_card("Hello", title="Title"))


def test_badges_carry_text_not_just_colour() -> None:
    for verdict in Verdict:
        label, style = VERDICTS[verdict]
        assert any(ch.isalpha() for ch in label)
        assert style in {"good", "warning", "attention", "accent", "emphasis"}
    assert len({label.badge for label in VERDICTS.values()}) == len(Verdict)


def test_plain_escapes_markdown_and_drops_control_characters() -> None:
    assert cards.plain("**x** [a](b)\x07") == r"\*\*x\*\* \[a\]\(b\)"


def test_reasons_quote_the_message_literally_and_validate(adviser: Adviser) -> None:
    question = "Pro tip: the [back gate](http://evil.example) is left **open** till 7 most nights"
    advice = adviser.advise(question)
    assert advice.reasons
    card = cards.answer_card(advice, adviser.knowledge, state=STATE)
    validate(card)
    blocks = [b for b in card["body"] if b.get("id") == "reasons"]
    assert len(blocks) == 1
    shown = json.dumps(blocks[0], ensure_ascii=False)
    assert "The problem:" in shown
    assert "[back gate](http" not in shown  # user text never becomes a link
    assert r"\\[back gate\\]\\(http" in shown
    # Each reason appears once: in its block, not again among the paragraphs.
    paragraphs = [b["text"] for b in card["body"] if b.get("type") == "TextBlock"]
    assert not any("The problem:" in p for p in paragraphs)
