"""Cards as terminal text: rendered from the card's elements, buttons as numbered choices."""

from __future__ import annotations

import itertools
from typing import Any

from bot.channels.text.render import Choice, Style, markdown, plain_text, render_card
from bot.conversation import cards
from bot.conversation.labels import VERDICTS
from bot.core import Adviser
from bot.core.types import Verdict

QUESTION = "Can I post about the Scottish Government's budget on my own account?"


def numbered() -> tuple[list[Choice], Any]:
    pressed: list[Choice] = []
    numbers = itertools.count(1)

    def number(choice: Choice) -> int:
        pressed.append(choice)
        return next(numbers)

    return pressed, number


def test_user_text_shows_literally_and_markup_does_not() -> None:
    said = cards.plain("**not bold** [link](http://x) *star* 2*3 \\ back")
    assert markdown(said) == "**not bold** [link](http://x) *star* 2*3 \\ back"
    assert markdown("**Bold** and *the policy* or [site](https://a.example)") == (
        "\x01Bold\x02 and the policy or site (https://a.example)"
    )
    assert plain_text("Type **my requests** to see them") == "Type my requests to see them"


def test_answer_card_shows_the_verdict_words_advice_clauses_and_numbered_buttons(
    adviser: Adviser,
) -> None:
    advice = adviser.advise(QUESTION)
    card = cards.answer_card(advice, adviser.knowledge, state="sealed")
    pressed, number = numbered()
    text = render_card(card, numbered=number)
    assert VERDICTS[advice.verdict].badge in text
    assert advice.answer.split("\n\n")[-1].split()[0] in text
    assert f"Policy clauses: {', '.join(advice.clauses)}" in text
    # The clause wording is behind its toggle until pressed; the toggle reveals it.
    wording = adviser.knowledge.clauses[advice.clauses[0]].text
    assert wording[:40] not in text.replace("\n", " ")
    toggle = next(c for c in pressed if c.kind == "Action.ToggleVisibility")
    assert any(wording[:40] in str(e) for e in toggle.reveals)
    titles = [c.title for c in pressed]
    assert "Ask my line manager" in titles
    for n, title in enumerate(titles, start=1):
        assert f"[{n}] {title}" in text


def test_printed_for_reading_shows_hidden_parts_and_lists_buttons_by_title(
    adviser: Adviser,
) -> None:
    advice = adviser.advise(QUESTION)
    text = render_card(cards.answer_card(advice, adviser.knowledge, state="sealed"))
    wording = adviser.knowledge.clauses[advice.clauses[0]].text
    assert wording in " ".join(text.split())
    assert "[Ask my line manager]" in text
    assert "Show the policy wording" not in text  # nothing left to show
    assert "[1]" not in text


def test_every_verdict_badge_renders_as_words(adviser: Adviser) -> None:
    seen = set()
    for entry in adviser.knowledge.entries:
        advice = adviser.advise(entry.questions[0])
        text = render_card(cards.answer_card(advice, adviser.knowledge, state="sealed"))
        assert text.startswith("┃ " + VERDICTS[advice.verdict].badge)
        seen.add(advice.verdict)
    assert {Verdict.OK, Verdict.NOT_OK} <= seen


def test_inputs_show_their_state_and_submits_carry_their_values() -> None:
    card = cards.card(
        [
            cards.text("Title", weight="Bolder"),
            {"type": "Input.Text", "id": "question", "label": "Your question", "value": "Q?"},
            {"type": "Input.Toggle", "id": "consent", "title": "Send it", "value": "false",
             "valueOn": "true", "valueOff": "false"},
            {"type": "FactSet", "facts": [{"title": "From", "value": "Morag"},
                                          {"title": "Request", "value": "#4"}]},
            {"type": "Input.ChoiceSet", "id": "pick", "label": "Route",
             "choices": [{"title": "Manager", "value": "lm"}, {"title": "DCCT", "value": "d"}]},
        ],
        [
            cards.submit("Send", {"action": "escalation.confirm", "route": "dcct"}),
            {"type": "Action.Execute", "title": "Run", "verb": "escalation.take", "data": {}},
            {"type": "Action.Submit", "title": "Cancel", "data": {"action": "x"},
             "associatedInputs": "none"},
        ],
    )  # fmt: skip
    pressed, number = numbered()
    text = render_card(card, numbered=number)
    assert "✎ Your question:\n  Q?" in text
    assert "☐ Send it" in text
    assert "From:    Morag" in text
    assert "Route: Manager / DCCT" in text
    send, run, cancel = pressed
    assert [i["id"] for i in send.inputs] == ["question", "consent", "pick"]
    values = {"question": "Edited", "consent": "true"}
    assert send.submitted(values) == {
        "action": "escalation.confirm", "route": "dcct", "question": "Edited", "consent": "true"
    }  # fmt: skip
    assert run.submitted({}) == {"action": "escalation.take"}
    assert cancel.submitted(values) == {"action": "x"}


def test_show_card_keeps_its_form_for_when_it_is_pressed(adviser: Adviser) -> None:
    advice = adviser.advise(QUESTION)
    pressed, number = numbered()
    render_card(cards.answer_card(advice, adviser.knowledge, state="sealed"), numbered=number)
    form = next(c for c in pressed if c.kind == "Action.ShowCard")
    inner, inner_number = numbered()
    text = render_card(form.action["card"], numbered=inner_number, parent_inputs=form.inputs)
    assert "What was wrong or missing?" in text
    assert [i["id"] for i in inner[0].inputs] == ["comment", "share_question"]


def test_long_text_wraps_to_the_width_and_colour_is_optional(adviser: Adviser) -> None:
    advice = adviser.advise(QUESTION)
    card = cards.answer_card(advice, adviser.knowledge, state="sealed")
    plain = render_card(card, style=Style(width=50))
    assert max(len(line) for line in plain.splitlines() if "[" not in line) <= 50
    assert "\x1b[" not in plain
    coloured = render_card(card, style=Style(width=50, color=True))
    assert "\x1b[31m┃" in coloured  # the "Not OK" badge's gutter is red
