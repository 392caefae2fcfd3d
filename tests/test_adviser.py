"""What the adviser promises, whatever the judge has learned."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import MAX_CHARS, Adviser, Route, Verdict
from bot.core.explain import mentioned_clauses

# Each makes a post not OK on its own, under the clause it breaks: security and
# confidential information (D9), political impartiality (D13), respect (D11).
RISKS = {
    "the keypad code for the staff door is 2580": "D9",
    "the loading bay barrier stays up till 9 every night": "D9",
    "keep this quiet but the whole directorate is being restructured before it's announced": "D9",
    "proud to be out canvassing for the Scottish Greens this weekend": "D13",
    "the two child cap is cruel and must be scrapped": "D13",
    "that convener is an absolute clown": "D11",
    "I haven't asked her but here's Morag asleep at her desk": "D9",
}
RISKY = list(RISKS)
BENIGN = [
    "Can I post a photo of my dog on Instagram?",
    "Can I share my holiday pictures on Facebook?",
    "Is it ok to post that I finished a marathon?",
    "can i put a pic of my garden on insta",
]


HARMLESS_DRAFT = '"Sunday roast done, now for a nap on the sofa"'


def test_result_is_typed_and_carries_the_policy_version(adviser: Adviser) -> None:
    advice = adviser.advise(HARMLESS_DRAFT)
    assert advice.verdict is Verdict.OK
    assert advice.policy_version == adviser.knowledge.policy_version
    assert advice.policy_version.startswith("sha256:")
    assert 0.0 <= advice.confidence <= 1.0
    assert set(advice.clauses) <= set(adviser.knowledge.clauses)
    assert advice.to_json()["verdict"] == "ok"


@pytest.mark.parametrize("question", BENIGN)
@pytest.mark.parametrize("risk", RISKY)
def test_a_risk_is_not_ok_under_its_clause_whatever_the_question(
    adviser: Adviser, question: str, risk: str
) -> None:
    advice = adviser.advise(f'{question} "{risk}"')
    assert advice.verdict is Verdict.NOT_OK, (question, risk, advice)
    assert RISKS[risk] in advice.clauses, (question, risk, advice.clauses)
    assert advice.route is Route.NONE  # a clear no needs nobody's judgement


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from(BENIGN),
    risk=st.sampled_from(RISKY),
    noise=st.text(alphabet=st.characters(codec="utf-8"), max_size=60),
)
def test_no_ok_whatever_surrounds_a_risk(
    adviser: Adviser, prefix: str, risk: str, noise: str
) -> None:
    advice = adviser.advise(f"{noise} {prefix} {risk} {noise}")
    assert advice.verdict is not Verdict.OK


def test_the_reason_quotes_the_words_that_raised_the_clause(adviser: Adviser) -> None:
    advice = adviser.advise(
        "Lovely evening on the terrace with the team. Pro tip for visitors: the back gate "
        "is left open till 7 most nights. Anyway, happy Friday!"
    )
    assert advice.verdict is Verdict.NOT_OK
    reason = advice.reasons[0]
    assert reason.clause == "D9"
    assert "back gate is left open till 7" in reason.quote
    assert "happy Friday" not in reason.quote
    assert reason.fix
    assert f"“{reason.quote}”" in advice.answer


def test_every_clause_the_answer_names_is_in_its_list(adviser: Adviser) -> None:
    for text in [*RISKY, *BENIGN, "who do I ask if I'm unsure?", "does the policy cover WhatsApp?"]:
        advice = adviser.advise(text)
        assert set(mentioned_clauses(advice.answer)) <= set(advice.clauses), (text, advice)


def test_every_faq_question_returns_its_own_entry_and_verdict(adviser: Adviser) -> None:
    wrong = []
    for entry in adviser.knowledge.entries:
        for question in entry.questions:
            advice = adviser.advise(question)
            if (advice.entry, advice.verdict) != (entry.id, entry.verdict):
                wrong.append((entry.id, question, advice.entry, advice.verdict.value))
    assert wrong == []


@pytest.mark.parametrize(
    "text",
    [
        "What time does the canteen close?",
        "how do i reset my password",
        "Morning! 👋",
        pytest.param(
            "asdf qwerty ;;;",
            marks=pytest.mark.xfail(
                strict=True, reason="known: keyboard mashing is judged 'take care', not off-topic"
            ),
        ),
    ],
)
def test_out_of_scope_is_recognised_politely(adviser: Adviser, text: str) -> None:
    advice = adviser.advise(text)
    assert advice.verdict is Verdict.OUT_OF_SCOPE
    assert advice.clauses == ()
    assert "Social Media policy" in advice.answer or advice.entry


def test_official_channels_route_to_the_dcct(adviser: Adviser) -> None:
    advice = adviser.advise(
        "I've been asked to put together a post for the Parliament's main X account"
    )
    assert advice.verdict is Verdict.ASK
    assert advice.route is Route.DCCT
    assert {"D4", "F2"} <= set(advice.clauses)


def test_a_harmless_draft_is_ok_with_a_personal_clause(adviser: Adviser) -> None:
    advice = adviser.advise(HARMLESS_DRAFT)
    assert advice.verdict is Verdict.OK
    assert advice.reasons == ()
    assert {"D14", "D1", "D2"} & set(advice.clauses)


def test_two_questions_get_the_more_cautious_answer(adviser: Adviser) -> None:
    advice = adviser.advise(
        "Can I follow the Parliament on Instagram? "
        "And can I post that I'm out leafleting for Labour?"
    )
    assert advice.verdict is Verdict.NOT_OK
    assert "D13" in advice.clauses


@pytest.mark.parametrize("text", ["", " ", "?" * 5000, '"' * 999])
def test_text_with_nothing_to_judge_is_out_of_scope(adviser: Adviser, text: str) -> None:
    advice = adviser.advise(text)
    assert advice.verdict is Verdict.OUT_OF_SCOPE
    assert advice.clauses == ()
    assert "I advise Scottish Parliament staff" in advice.answer


@pytest.mark.parametrize(
    "text",
    ["post " * 10_000, "\x00\x01\x02 can I post \u202e this", "🙂" * 3000, "(" * 500 + "a" * 500],
)
def test_hostile_or_huge_text_gets_a_bounded_answer_naming_real_clauses(
    adviser: Adviser, text: str
) -> None:
    advice = adviser.advise(text)
    assert advice.answer.strip()
    assert len(advice.answer) < 4000  # the answer is advice, not the input echoed back
    assert set(advice.clauses) <= set(adviser.knowledge.clauses)
    assert set(mentioned_clauses(advice.answer)) <= set(advice.clauses)


def test_input_is_bounded(adviser: Adviser) -> None:
    tail_risk = " the keypad code for the staff door is 2580"
    advice = adviser.advise("Can I post a photo of my dog? " + "x " * MAX_CHARS + tail_risk)
    assert "security-detail" not in advice.signals
