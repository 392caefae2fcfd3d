"""The DCCT's rulings desk: add an answered request to the adviser, four eyes on it.

Only DCCT members act here (the members of the configured DCCT team, the same check that
decides who may answer a DCCT request). One member proposes; another approves or
rejects; the proposer cannot approve their own. Card data is untrusted: the form's
buttons carry a signature over the ticket, a proposal's over the proposal.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from bot import logs
from bot.clock import Clock
from bot.conversation.labels import STALE_BUTTON
from bot.conversation.signing import CardSigner
from bot.conversation.types import Person, Reply
from bot.core.knowledge import MAX_ANSWER_CHARS
from bot.core.rulings import VERDICTS, ruling_clauses, validate_ruling
from bot.core.types import Knowledge, Route, Verdict
from bot.escalation.cards import may_learn
from bot.escalation.service import MEMBERSHIP_UNKNOWN, MembershipCheck
from bot.escalation.store import TicketStore
from bot.escalation.tickets import Ticket
from bot.rulings import cards
from bot.store.proposals import LIVE, Proposal, ProposalStatus, ProposalStore, london_day

log = logging.getLogger("bot.rulings")

NOT_DCCT = "Only members of the DCCT team can add rulings to the adviser or decide on them."
OWN_PROPOSAL = (
    "You proposed this ruling, so another member of the DCCT must approve it "
    "(four eyes). You can still withdraw it."
)
GONE = (
    "That request is no longer stored (requests are deleted some time after they close), "
    "so it can't be added to the adviser."
)
MAX_CLAUSES = 4


class LocalStandInDcct:
    """Local mode with no DCCT team: whoever talks to the bot stands in for the DCCT, as
    the asker's own chat stands in for the expert. Four eyes still hold: a second local
    user (another browser tab) approves with the `rulings` command."""

    async def is_member(self, person: Person) -> bool:
        return bool(person.aad_object_id)


class RulingsDesk:
    def __init__(
        self,
        proposals: ProposalStore,
        tickets: TicketStore,
        signer: CardSigner,
        dcct: MembershipCheck,
        clock: Clock,
        knowledge: Knowledge,
        taken_in: Callable[[], Awaitable[object]],
        *,
        max_chars: int,
    ) -> None:
        self.proposals = proposals
        self.tickets = tickets
        self.signer = signer
        self.dcct = dcct
        self.clock = clock
        self.knowledge = knowledge
        self.taken_in = taken_in  # an approval or withdrawal: this replica takes it in now
        self.max_chars = max_chars

    async def overview(self, person: Person) -> Reply:
        refused = await self._refused(person)
        if refused is not None:
            return refused
        pending = await self.proposals.with_status(ProposalStatus.PENDING, limit=10)
        approved = await self.proposals.with_status(ProposalStatus.APPROVED, limit=10)
        return Reply(card=cards.desk_card(pending, approved, self.signer))

    async def handle(self, person: Person, data: Mapping[str, Any]) -> Reply:
        handlers: dict[str, Callable[[Person, Mapping[str, Any]], Awaitable[Reply]]] = {
            "ruling.add": self._add,
            "ruling.propose": self._propose,
            "ruling.approve": self._approve,
            "ruling.reject": self._reject,
            "ruling.withdraw": self._withdraw,
        }
        action = data.get("action")
        if not isinstance(action, str) or action not in handlers:
            return Reply(text=STALE_BUTTON)
        refused = await self._refused(person)
        if refused is not None:
            log.warning("rulings.refused", extra=logs.fields(action=action))
            return refused
        return await handlers[action](person, data)

    async def _refused(self, person: Person) -> Reply | None:
        try:
            member = bool(person.aad_object_id) and await self.dcct.is_member(person)
        except Exception:  # the member list could not be read: refuse, never guess
            log.exception("rulings.membership_unknown")
            return Reply(text=MEMBERSHIP_UNKNOWN)
        return None if member else Reply(text=NOT_DCCT)

    def _signed_id(self, data: Mapping[str, Any], key: str, purpose: str) -> int | None:
        """The id a button carries under `key`, if the bot signed it for `purpose`."""
        ident = data.get(key)
        if isinstance(ident, int) and self.signer.verify(ident, purpose, data.get("sig")):
            return ident
        log.warning("rulings.bad_signature", extra=logs.fields(action=str(data["action"])))
        return None

    # --- from a request to a proposal -----------------------------------------------

    async def _ticket(self, data: Mapping[str, Any]) -> Ticket | Reply:
        """The request a form button is about, or why it cannot be acted on."""
        ticket_id = self._signed_id(data, "ticket", "learn")
        if ticket_id is None:
            return Reply(text=STALE_BUTTON)
        ticket = await self.tickets.get(ticket_id)
        if ticket is None or not ticket.question:
            return Reply(text=GONE)
        if not may_learn(ticket):  # no consent, or not answered (a forged or old button)
            return Reply(text=STALE_BUTTON)
        return ticket

    async def _already(self, ticket: Ticket) -> Reply | None:
        live = await self.proposals.live_for_ticket(ticket.id)
        if live is None:
            return None
        return Reply(
            card=cards.proposal_card(live, self.signer),
            text=f"This request was already proposed as a ruling (proposal #{live.id}).",
        )

    async def _add(self, person: Person, data: Mapping[str, Any]) -> Reply:
        ticket = await self._ticket(data)
        if isinstance(ticket, Reply):
            return ticket
        already = await self._already(ticket)
        if already is not None:
            return already
        return Reply(card=cards.form_card(ticket, self.knowledge, self.signer, self.max_chars))

    async def _propose(self, person: Person, data: Mapping[str, Any]) -> Reply:
        ticket = await self._ticket(data)
        if isinstance(ticket, Reply):
            return ticket
        already = await self._already(ticket)  # a second form, or a double click
        if already is not None:
            return already
        proposal, problems = self._read_form(person, ticket.id, data)
        if proposal is None:
            return Reply(text="Nothing was proposed: " + " ".join(problems))
        stored = await self.proposals.create(proposal)
        log.info(
            "rulings.proposed",
            extra=logs.fields(proposal=stored.id, ticket=ticket.id, verdict=stored.verdict.value),
        )
        return Reply(replace=cards.proposal_card(stored, self.signer))

    def _read_form(
        self, person: Person, ticket_id: int, data: Mapping[str, Any]
    ) -> tuple[Proposal | None, list[str]]:
        """The form's fields, checked as `knowledge check` checks an exported ruling."""
        problems: list[str] = []
        question = data.get("question")
        question = question.strip() if isinstance(question, str) else ""
        if not question:
            problems.append("The question is empty.")
        elif len(question) > self.max_chars:
            problems.append(f"The question is over {self.max_chars:,} characters.")
        try:
            verdict = Verdict(str(data.get("verdict")))
        except ValueError:
            verdict = Verdict.INFO
        if verdict not in VERDICTS:
            problems.append("Choose a ruling: OK, take care, not OK or ask first.")
        raw_clauses = data.get("clauses")
        picked = [c.strip() for c in raw_clauses.split(",")] if isinstance(raw_clauses, str) else []
        clauses = [c for c in dict.fromkeys(picked) if c in self.knowledge.clauses]
        if not clauses:
            problems.append("Choose at least one clause.")
        elif len(clauses) > MAX_CLAUSES:
            problems.append(f"Choose at most {MAX_CLAUSES} clauses.")
        route = Route.NONE
        if verdict is Verdict.ASK:
            route = Route.LINE_MANAGER if data.get("route") == "line_manager" else Route.DCCT
        answer = data.get("answer")
        answer = answer.strip() if isinstance(answer, str) else ""
        if len(answer) > MAX_ANSWER_CHARS:
            problems.append(f"The answer is over {MAX_ANSWER_CHARS:,} characters.")
        if problems:
            return None, problems
        cited = ruling_clauses(verdict, route, clauses)
        now = self.clock.now()
        proposal = Proposal(
            id=0,
            ticket_id=ticket_id,
            status=ProposalStatus.PENDING,
            question=question,
            verdict=verdict,
            clauses=cited,
            route=route,
            answer=answer,
            proposed_by=person.name or "A DCCT member",
            proposer_aad=person.aad_object_id or "",
            proposed_at=now,
            policy_version=self.knowledge.policy_version,
        )
        # The same rules as the export: what is proposed here will pass `knowledge check`.
        _, found = validate_ruling(
            proposal.ruling(london_day(now)).to_json() | {"id": "ruling-0000"},
            "proposal",
            set(self.knowledge.clauses),
        )
        if found:
            return None, [p.split(": ", 1)[-1] for p in found]
        return proposal, []

    # --- the second pair of eyes ----------------------------------------------------

    async def _proposal(self, data: Mapping[str, Any]) -> Proposal | Reply:
        proposal_id = self._signed_id(data, "proposal", "proposal")
        if proposal_id is None:
            return Reply(text=STALE_BUTTON)
        return await self.proposals.get(proposal_id) or Reply(text=STALE_BUTTON)

    async def _approve(self, person: Person, data: Mapping[str, Any]) -> Reply:
        return await self._second_look(person, data, ProposalStatus.APPROVED)

    async def _reject(self, person: Person, data: Mapping[str, Any]) -> Reply:
        return await self._second_look(person, data, ProposalStatus.REJECTED)

    async def _second_look(
        self, person: Person, data: Mapping[str, Any], status: ProposalStatus
    ) -> Reply:
        """Approve or reject: four eyes, so never the proposer's own."""
        proposal = await self._proposal(data)
        if isinstance(proposal, Reply):
            return proposal
        pending = proposal.status is ProposalStatus.PENDING
        if pending and person.aad_object_id == proposal.proposer_aad:
            return Reply(text=OWN_PROPOSAL)
        return await self._decide(person, proposal, status, (ProposalStatus.PENDING,))

    async def _withdraw(self, person: Person, data: Mapping[str, Any]) -> Reply:
        proposal = await self._proposal(data)
        if isinstance(proposal, Reply):
            return proposal
        return await self._decide(person, proposal, ProposalStatus.WITHDRAWN, LIVE)

    async def _decide(
        self,
        person: Person,
        proposal: Proposal,
        status: ProposalStatus,
        only_if: tuple[ProposalStatus, ...],
    ) -> Reply:
        decided = await self.proposals.decide(
            proposal.id,
            status,
            by_name=person.name or "A DCCT member",
            by_aad=person.aad_object_id or "",
            at=self.clock.now(),
            only_if=only_if,
            # An approved ruling is made under the policy in force when it is approved.
            policy_version=self.knowledge.policy_version
            if status is ProposalStatus.APPROVED
            else None,
        )
        if decided is None:
            current = await self.proposals.get(proposal.id) or proposal
            return Reply(
                replace=cards.proposal_card(current, self.signer),
                text=f"Proposal #{proposal.id} was already decided. "
                f"{cards.STATUS_LINES[current.status]}",
            )
        log.info(
            "rulings.decided", extra=logs.fields(proposal=decided.id, status=decided.status.value)
        )
        if decided.status is ProposalStatus.APPROVED or proposal.status is ProposalStatus.APPROVED:
            try:
                await self.taken_in()
            except Exception:  # stored all the same: the next poll takes it in
                log.exception("rulings.refresh_failed")
        return Reply(replace=cards.proposal_card(decided, self.signer))
