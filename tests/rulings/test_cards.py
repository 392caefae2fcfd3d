"""The rulings desk's cards, and the answer and request cards that carry rulings, are
valid Adaptive Cards 1.5; user text in them is shown literally."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

from bot.conversation import cards as answer_cards
from bot.conversation.signing import CardSigner
from bot.core import Adviser
from bot.core.types import Advice, Route, Verdict
from bot.escalation import cards as escalation_cards
from bot.escalation.tickets import Outcome, Status, Ticket
from bot.rulings import cards
from bot.store.proposals import Proposal, ProposalStatus
from tests.conversation.test_cards import validate

SIGNER = CardSigner(b"k" * 32)
NOW = datetime(2026, 3, 3, 10, tzinfo=UTC)
TICKET = Ticket(
    id=7,
    created_at=NOW,
    status=Status.ANSWERED,
    route=Route.DCCT,
    asker_user_id="29:a",
    asker_aad="aad-a",
    asker_name="Morag [Stewart](http://x)",
    asker_conversation={},
    tenant_id=None,
    question="Can I post **this**?",
    verdict="caution",
    clauses="D2,D1",
    entry=None,
    policy_version="sha256:151d76d8fc70",
    outcome=Outcome.NOT_OK,
    answered_by="Dana",
    answered_at=NOW,
    learn_consent=True,
)
PROPOSAL = Proposal(
    id=3,
    ticket_id=7,
    status=ProposalStatus.PENDING,
    question="Can I post [this](http://x)?",
    verdict=Verdict.ASK,
    clauses=("D2", "F2"),
    route=Route.DCCT,
    answer="Ask the DCCT first.",
    proposed_by="Dana",
    proposer_aad="aad-d",
    proposed_at=NOW,
    policy_version="sha256:151d76d8fc70",
)


def test_the_form_starts_from_the_answer_and_the_advisers_clauses(adviser: Adviser) -> None:
    form = cards.form_card(TICKET, adviser.knowledge, SIGNER, 4000)
    validate(form)
    fields = {i["id"]: i for i in form["body"] if "id" in i}
    assert fields["question"]["value"] == "Can I post **this**?"  # an input: shown as typed
    assert fields["verdict"]["value"] == "not_ok", "the DCCT said Not OK"
    assert fields["clauses"]["value"] == "D2,D1"
    assert fields["clauses"]["isMultiSelect"] is True
    assert [c["value"] for c in fields["verdict"]["choices"]] == ["ok", "caution", "not_ok", "ask"]
    reply = replace(TICKET, outcome=Outcome.REPLY, verdict="info")
    assert cards.starting_verdict(reply) is Verdict.CAUTION


def test_proposal_cards_in_every_state_are_valid_and_literal() -> None:
    for status in ProposalStatus:
        decided = replace(PROPOSAL, status=status, decided_by="Eilidh", decided_at=NOW)
        card = cards.proposal_card(decided, SIGNER)
        validate(card)
        titles = {a["title"] for a in card.get("actions", [])}
        expected = {
            ProposalStatus.PENDING: {"Approve", "Reject", "Withdraw"},
            ProposalStatus.APPROVED: {"Withdraw from the adviser"},
        }.get(status, set())
        assert titles == expected
    shown = json.dumps(cards.proposal_card(PROPOSAL, SIGNER))
    assert "[this](http" not in shown
    validate(cards.desk_card([PROPOSAL], [replace(PROPOSAL, status=ProposalStatus.APPROVED)],
                             SIGNER))  # fmt: skip
    validate(cards.desk_card([], [], SIGNER))


def test_request_and_preview_cards_carry_the_consent(adviser: Adviser) -> None:
    card = escalation_cards.request_card(TICKET, SIGNER)
    validate(card)
    assert [a["title"] for a in card["actions"]] == ["Add to the adviser"]
    assert card["actions"][0]["data"]["sig"] == SIGNER.sign(7, "learn")
    for ticket in (replace(TICKET, learn_consent=False), replace(TICKET, route=Route.LINE_MANAGER),
                   replace(TICKET, status=Status.CLOSED)):  # fmt: skip
        assert "Add to the adviser" not in json.dumps(escalation_cards.request_card(ticket, SIGNER))
    advice = adviser.advise("Can I post about the budget?")
    preview = escalation_cards.preview_card(
        "Morag", "q", advice.verdict.value, advice.clauses, Route.DCCT, "offer", 4000
    )
    validate(preview)
    [learn] = [i for i in preview["body"] if i.get("id") == "learn"]
    assert learn["value"] == "false"
    mine = escalation_cards.my_requests_card([TICKET], SIGNER, "sha256:aaaaaaaaaaaa")
    validate(mine)
    assert "older version of the policy" in json.dumps(mine)


def test_an_answer_with_notes_shows_them(adviser: Adviser) -> None:
    question = "Can I post about the budget?"
    advice = replace(adviser.advise(question), notes=("The DCCT ruled on [it](x).",),
                     ruling="ruling-0003")  # fmt: skip
    state = SIGNER.seal("answer", {"q": question, "a": advice.to_json(), "card": "c"})
    card = answer_cards.answer_card(advice, adviser.knowledge, state=state)
    validate(card)
    [notes] = [b for b in card["body"] if b.get("id") == "notes"]
    assert notes["items"][0]["text"] == answer_cards.plain("The DCCT ruled on [it](x).")
    # Staff read the note; the ruling's id stays in the card's sealed state, so feedback
    # and escalation from this card act on the answer as it came from the ruling.
    assert "ruling-0003" not in json.dumps(card["body"])
    sealed = SIGNER.unseal("answer", state)
    assert sealed is not None
    restored = Advice.from_json(sealed["a"])
    assert (restored.notes, restored.ruling) == (advice.notes, advice.ruling)
