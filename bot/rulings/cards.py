"""The cards of the rulings desk: the "Add to the adviser" form, a proposal, the desk.

Every button carries a signature: over the ticket for the form (purpose "learn"), over
the proposal for approve, reject and withdraw (purpose "proposal").
"""

from __future__ import annotations

from typing import Any

from bot.conversation.cards import card, plain, submit, text
from bot.conversation.labels import VERDICTS, verdict_badge
from bot.conversation.signing import CardSigner
from bot.core.knowledge import MAX_ANSWER_CHARS
from bot.core.rulings import VERDICTS as RULING_VERDICTS
from bot.core.types import Knowledge, Route, Verdict
from bot.escalation.cards import when
from bot.escalation.tickets import Ticket
from bot.store.proposals import Proposal, ProposalStatus

# What the expert's button said, as a verdict for the form to start from.
OUTCOME_VERDICTS = {"approve": Verdict.OK, "not_ok": Verdict.NOT_OK, "changes": Verdict.CAUTION}
ROUTE_CHOICES = {Route.DCCT: "the DCCT", Route.LINE_MANAGER: "their line manager"}
MAX_CLAUSE_TITLE = 90
STATUS_LINES = {
    ProposalStatus.PENDING: "Waiting for a second member of the DCCT to approve or reject it.",
    ProposalStatus.APPROVED: "Approved: the adviser uses this ruling now.",
    ProposalStatus.REJECTED: "Rejected. Its text was deleted.",
    ProposalStatus.WITHDRAWN: "Withdrawn: the adviser no longer uses it. Its text was deleted.",
    ProposalStatus.EXPIRED: "Expired without a decision. Its text was deleted.",
}


def starting_verdict(ticket: Ticket) -> Verdict:
    if ticket.outcome in OUTCOME_VERDICTS:
        return OUTCOME_VERDICTS[ticket.outcome]
    try:
        verdict = Verdict(ticket.verdict)
    except ValueError:
        return Verdict.CAUTION
    return verdict if verdict in RULING_VERDICTS else Verdict.CAUTION


def _choices(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"title": title, "value": value} for value, title in values.items()]


def _clause_title(cid: str, wording: str) -> str:
    title = f"{cid} {wording}"
    return title if len(title) <= MAX_CLAUSE_TITLE else title[: MAX_CLAUSE_TITLE - 1] + "…"


def form_card(
    ticket: Ticket, knowledge: Knowledge, signer: CardSigner, max_chars: int
) -> dict[str, Any]:
    """Pre-filled from the request: its question (to anonymise), a verdict from the
    answer, the adviser's own clauses; the answer text is left for the DCCT to write."""
    known = [c for c in ticket.clauses.split(",") if c in knowledge.clauses]
    body = [
        text("Add this ruling to the adviser", weight="Bolder", size="Medium"),
        text(
            "The next person asking something like this will get your ruling. Remove names "
            "and anything that identifies the asker or a colleague first. A second member of "
            "the DCCT must approve it before it is used."
        ),
        {
            "type": "Input.Text",
            "id": "question",
            "label": "The question, anonymised",
            "isMultiline": True,
            "maxLength": max_chars,
            "value": ticket.question or "",
            "isRequired": True,
            "errorMessage": "The question is needed.",
        },
        {
            "type": "Input.ChoiceSet",
            "id": "verdict",
            "label": "The ruling",
            "style": "expanded",
            "value": starting_verdict(ticket).value,
            "choices": _choices({v.value: VERDICTS[v].badge for v in RULING_VERDICTS}),
            "isRequired": True,
        },
        {
            "type": "Input.ChoiceSet",
            "id": "clauses",
            "label": "The clauses it relies on (the adviser's pick is selected)",
            "isMultiSelect": True,
            "style": "compact",
            "value": ",".join(known),
            "choices": [
                {"title": _clause_title(c.id, c.text), "value": c.id}
                for c in knowledge.clauses.values()
            ],
        },
        {
            "type": "Input.ChoiceSet",
            "id": "route",
            "label": "If the ruling is “ask first”: whom to ask",
            "style": "compact",
            "value": Route.DCCT.value,
            "choices": _choices({r.value: t for r, t in ROUTE_CHOICES.items()}),
        },
        {
            "type": "Input.Text",
            "id": "answer",
            "label": "An answer for staff who ask this (optional; else the closest FAQ answer)",
            "isMultiline": True,
            "maxLength": MAX_ANSWER_CHARS,
            "value": "",
        },
        text(f"From request #{ticket.id} · policy version {ticket.policy_version}",
             size="Small", isSubtle=True),
    ]  # fmt: skip
    data = {"action": "ruling.propose", "ticket": ticket.id, "sig": signer.sign(ticket.id, "learn")}
    return card(body, [submit("Propose", data, style="positive")])


def _facts(proposal: Proposal) -> list[dict[str, Any]]:
    items = [
        text(plain(proposal.question or "(text deleted)")),
        text(f"**Ruling:** {verdict_badge(proposal.verdict.value)}"
             + (f" · ask {ROUTE_CHOICES[proposal.route]}" if proposal.route in ROUTE_CHOICES
                else "")
             + f" · clauses {', '.join(proposal.clauses)}"),
    ]  # fmt: skip
    if proposal.answer:
        items.append(text(f"**Answer:** {plain(proposal.answer)}"))
    return items


def _decision(proposal: Proposal) -> str:
    line = STATUS_LINES[proposal.status]
    if proposal.decided_by and proposal.status is not ProposalStatus.EXPIRED:
        line += f" ({plain(proposal.decided_by)}, {when(proposal.decided_at)})"
    return line


def proposal_actions(proposal: Proposal, signer: CardSigner) -> list[dict[str, Any]]:
    base = {"proposal": proposal.id, "sig": signer.sign(proposal.id, "proposal")}
    if proposal.status is ProposalStatus.PENDING:
        return [
            submit("Approve", {"action": "ruling.approve", **base}, style="positive"),
            submit("Reject", {"action": "ruling.reject", **base}, style="destructive"),
            submit("Withdraw", {"action": "ruling.withdraw", **base}),
        ]
    if proposal.status is ProposalStatus.APPROVED:
        return [submit("Withdraw from the adviser", {"action": "ruling.withdraw", **base})]
    return []


def proposal_card(proposal: Proposal, signer: CardSigner) -> dict[str, Any]:
    body = [
        text(f"Proposal #{proposal.id}: a ruling for the adviser", weight="Bolder",
             size="Medium"),
        *_facts(proposal),
        text(f"Proposed by {plain(proposal.proposed_by)} · {when(proposal.proposed_at)} · "
             f"from request #{proposal.ticket_id} · policy version {proposal.policy_version}",
             size="Small", isSubtle=True),
        text(_decision(proposal), weight="Bolder", spacing="Medium"),
    ]  # fmt: skip
    return card(body, proposal_actions(proposal, signer))


def desk_card(
    pending: list[Proposal], approved: list[Proposal], signer: CardSigner
) -> dict[str, Any]:
    """The `rulings` command: what waits for a second member, and what is in force."""
    body: list[dict[str, Any]] = [text("Rulings for the adviser", weight="Bolder", size="Large")]
    sections = (
        ("Waiting for a second member of the DCCT", pending, "None waiting."),
        ("In force", approved, "No rulings yet: use “Add to the adviser” on an answered "
         "request whose asker agreed."),
    )  # fmt: skip
    for title, proposals, empty in sections:
        body.append(text(title, weight="Bolder", size="Medium", spacing="Large"))
        if not proposals:
            body.append(text(empty, isSubtle=True))
        for proposal in proposals[:10]:
            items = [
                text(f"**#{proposal.id}** {plain((proposal.question or '')[:160])}"),
                text(f"{verdict_badge(proposal.verdict.value)} · clauses "
                     f"{', '.join(proposal.clauses)} · proposed by "
                     f"{plain(proposal.proposed_by)}, {when(proposal.proposed_at)}"
                     + (f" · approved by {plain(proposal.decided_by or '')}"
                        if proposal.status is ProposalStatus.APPROVED else ""),
                     size="Small", isSubtle=True),
                {"type": "ActionSet", "actions": proposal_actions(proposal, signer)},
            ]  # fmt: skip
            body.append({"type": "Container", "items": items, "separator": True})
    return card(body)
