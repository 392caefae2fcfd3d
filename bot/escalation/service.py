"""Escalation as the chat handler sees it: offer, confirm, answer, follow up, withdraw.

Every state change is one store transaction that also queues what must be sent (the
outbox); nothing is sent from here. Card data is untrusted: ticket buttons carry a
signature over (ticket, who it is for), and the presser must be allowed to act.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot import logs
from bot.clock import Clock
from bot.conversation.cards import notice_card
from bot.conversation.escalation_port import escalation_route
from bot.conversation.labels import ROUTE_NAMES, STALE_BUTTON
from bot.conversation.signing import CardSigner
from bot.conversation.types import Person, Reply
from bot.core.types import Advice, Route, Verdict
from bot.escalation import cards, lifecycle
from bot.escalation.store import TicketStore, Transition
from bot.escalation.tickets import Outcome, Status, Ticket

log = logging.getLogger("bot.escalation")

NOT_YOURS = (
    "Only the person this request was sent to can answer or close it "
    "(the asker's line manager, or a member of the DCCT team)."
)


MEMBERSHIP_UNKNOWN = (
    "I couldn't check who may answer for the DCCT just now, so nothing was changed. "
    "Please try again in a minute."
)


OFFER = "offer"  # what a preview's sealed state is for (see CardSigner.seal)


@dataclass(frozen=True)
class Offer:
    """What a preview card showed, sealed into its buttons: the question as asked and the
    adviser's answer to it. Confirm stores this, never advice worked out again."""

    question: str
    verdict: Verdict
    clauses: tuple[str, ...]
    entry: str | None
    policy_version: str
    id: str  # one ticket per preview, however often Send is pressed

    def to_json(self) -> dict[str, Any]:
        return {
            "q": self.question,
            "verdict": self.verdict.value,
            "clauses": list(self.clauses),
            "entry": self.entry,
            "policy_version": self.policy_version,
            "id": self.id,
        }

    @classmethod
    def from_json(cls, raw: Mapping[str, Any]) -> Offer:
        entry = raw["entry"]
        return cls(
            question=str(raw["q"]),
            verdict=Verdict(raw["verdict"]),
            clauses=tuple(str(c) for c in raw["clauses"]),
            entry=None if entry is None else str(entry),
            policy_version=str(raw["policy_version"]),
            id=str(raw["id"]),
        )


class MembershipUnknownError(Exception):
    """Teams could not tell us the DCCT team's members."""


class MembershipCheck(Protocol):
    """Who may answer for the DCCT: members of the configured team."""

    async def is_member(self, person: Person) -> bool: ...


class EscalationService:
    def __init__(
        self,
        store: TicketStore,
        signer: CardSigner,
        clock: Clock,
        dcct: MembershipCheck,
        wake: Callable[[], None],
        *,
        max_chars: int,
        policy_version: str = "",
    ) -> None:
        self.store = store
        self.policy_version = policy_version  # the adviser's: older answers say so
        self.signer = signer
        self.clock = clock
        self.dcct = dcct
        self.wake = wake
        self.max_chars = max_chars

    # --- the asker ------------------------------------------------------------------

    async def offer(self, asker: Person, question: str, advice: Advice, route: Route) -> Reply:
        if not asker.aad_object_id:
            return Reply(
                text="I can't pass this on: I don't know who you are at work (your chat is "
                "not signed in with your Parliament account). Please use the adviser in "
                "Teams or on the intranet page, or ask your line manager or the DCCT directly."
            )
        offer = Offer(
            question[: self.max_chars],
            advice.verdict,
            advice.clauses,
            advice.entry,
            advice.policy_version,
            secrets.token_urlsafe(9),
        )
        return Reply(card=self._preview(asker, offer, route, offer.question))

    def _preview(self, asker: Person, offer: Offer, route: Route, shown: str) -> dict[str, Any]:
        sealed = self.signer.seal(OFFER, offer.to_json())
        return cards.preview_card(
            asker.name, shown, offer.verdict.value, offer.clauses, route, sealed, self.max_chars
        )

    def _offer(self, data: Mapping[str, Any]) -> Offer | None:
        sealed = self.signer.unseal(OFFER, data.get(OFFER))
        try:
            return Offer.from_json(sealed) if sealed is not None else None
        except (KeyError, TypeError, ValueError):
            return None

    async def switch(self, asker: Person, data: Mapping[str, Any]) -> Reply:
        """ "Ask the other one instead": the same preview, for the other route, in place."""
        route = escalation_route(data.get("route"))
        offer = self._offer(data)
        if route is None or offer is None:
            return Reply(text=STALE_BUTTON)
        typed = data.get("question")
        shown = typed.strip() if isinstance(typed, str) and typed.strip() else offer.question
        return Reply(replace=self._preview(asker, offer, route, shown[: self.max_chars]))

    async def confirm(self, asker: Person, data: Mapping[str, Any]) -> Reply:
        route = escalation_route(data.get("route"))
        question = data.get("question")
        offer = self._offer(data)
        if route is None or offer is None or not asker.aad_object_id:
            return Reply(text=STALE_BUTTON)
        if not isinstance(question, str) or not question.strip():
            return Reply(
                text="Your question is empty. Type it in the box, then press Send request."
            )
        if str(data.get("consent", "")).lower() != "true":
            return Reply(text="Nothing was sent. Tick the box to agree, then press Send request.")
        question = question.strip()[: self.max_chars]
        # What the asker saw in the preview, about the question as first asked.
        edited = " ".join(question.split()) != " ".join(offer.question.split())
        ticket = await self.store.create(
            lifecycle.confirmed(
                asker,
                route,
                question,
                offer,
                offer.id[:40],
                self.clock.now(),
                edited=edited,
                learn_consent=str(data.get("learn", "")).lower() == "true",
            )
        )
        log.info(
            "escalation.created",
            extra=logs.fields(
                ticket=ticket.id, route=route.value, chars=len(question), edited=edited
            ),
        )
        self.wake()
        who = ROUTE_NAMES[ticket.route]
        return Reply(
            replace=notice_card(
                f"Request #{ticket.id} is on its way to {who}. I'll tell you here when it "
                "is delivered and when they answer. Type **my requests** to check on it.",
                title="Sent",
            )
        )

    async def my_requests(self, asker: Person) -> Reply:
        tickets = await self.store.for_asker(asker.user_id)
        return Reply(card=cards.my_requests_card(tickets, self.signer, self.policy_version))

    async def handle(self, actor: Person, data: Mapping[str, Any]) -> Reply:
        action = data.get("action")
        if action == "escalation.confirm":
            return await self.confirm(actor, data)
        if action == "escalation.switch":
            return await self.switch(actor, data)
        if action == "escalation.cancel":
            return Reply(replace=notice_card("Cancelled. Nothing was sent."))
        handlers = {
            "escalation.answer": ("expert", self._answer),
            "escalation.take": ("expert", self._take),
            "escalation.close": ("expert", self._close),
            "escalation.followup": ("asker", self._follow_up),
            "escalation.withdraw": ("asker", self._withdraw),
        }
        if not isinstance(action, str) or action not in handlers:
            return Reply(text=STALE_BUTTON)
        purpose, handler = handlers[action]
        ticket_id = data.get("ticket")
        if not isinstance(ticket_id, int) or not self.signer.verify(
            ticket_id, purpose, data.get("sig")
        ):
            log.warning("escalation.bad_signature", extra=logs.fields(action=action))
            return Reply(text=STALE_BUTTON)
        ticket = await self.store.get(ticket_id)
        if ticket is None:
            return Reply(text=STALE_BUTTON)
        try:
            allowed = (
                await self._may_answer(actor, ticket)
                if purpose == "expert"
                else actor.user_id == ticket.asker_user_id
            )
        except MembershipUnknownError:
            return Reply(text=MEMBERSHIP_UNKNOWN)
        if not allowed:
            log.warning("escalation.refused", extra=logs.fields(action=action, ticket=ticket.id))
            return Reply(text=NOT_YOURS if purpose == "expert" else STALE_BUTTON)
        return await handler(actor, ticket, data)

    # --- the expert -----------------------------------------------------------------

    async def _may_answer(self, actor: Person, ticket: Ticket) -> bool:
        if not actor.aad_object_id:
            return False
        if ticket.expert_aad and actor.aad_object_id == ticket.expert_aad:
            return True  # the manager it was addressed to (or the local stand-in)
        if ticket.route is not Route.DCCT:
            return False
        try:
            return await self.dcct.is_member(actor)
        except Exception as exc:  # the member list could not be read: refuse, never guess
            log.exception("escalation.membership_unknown", extra=logs.fields(ticket=ticket.id))
            raise MembershipUnknownError from exc

    async def _answer(self, actor: Person, ticket: Ticket, data: Mapping[str, Any]) -> Reply:
        try:
            outcome = Outcome(str(data.get("outcome")))
        except ValueError:
            return Reply(text=STALE_BUTTON)
        answer = data.get("answer")
        answer = answer.strip()[: cards.MAX_ANSWER] if isinstance(answer, str) else ""
        if outcome is Outcome.REPLY and not answer:
            return Reply(text="Type your answer in the box, then press **Reply**.")
        now = self.clock.now()
        return await self._settle(
            actor,
            ticket,
            lambda t: lifecycle.answered(t, outcome, answer, actor.name, now),
            "answered",
        )

    async def _take(self, actor: Person, ticket: Ticket, data: Mapping[str, Any]) -> Reply:
        now = self.clock.now()
        updated = await self.store.apply(
            ticket.id, lambda t: lifecycle.taken(t, actor.name, now), now
        )
        if updated is None:
            return await self._already(ticket.id, actor)
        self.wake()
        return Reply(replace=cards.request_card(updated, self.signer))

    async def _close(self, actor: Person, ticket: Ticket, data: Mapping[str, Any]) -> Reply:
        now = self.clock.now()
        return await self._settle(
            actor, ticket, lambda t: lifecycle.closed(t, actor.name, now), "closed"
        )

    async def _settle(
        self, actor: Person, ticket: Ticket, transition: Transition, event: str
    ) -> Reply:
        """Close the ticket once: a second DCCT member pressing later sees who did."""
        updated = await self.store.apply(ticket.id, transition, self.clock.now())
        if updated is None:
            return await self._already(ticket.id, actor)
        log.info(
            "escalation.settled",
            extra=logs.fields(
                ticket=ticket.id,
                route=ticket.route.value,
                change=event,
                outcome=updated.outcome.value if updated.outcome else None,
            ),
        )
        self.wake()
        return Reply(replace=cards.request_card(updated, self.signer))

    async def _already(self, ticket_id: int, actor: Person) -> Reply:
        current = await self.store.get(ticket_id)
        if current is None:
            return Reply(text=STALE_BUTTON)
        if current.status is Status.CANCELLED:
            asker = current.asker_name or "The asker"
            said = f"{asker} withdrew this request, so no answer is needed."
        else:
            who = current.answered_by or current.taken_by or "Someone else"
            status = cards.STATUS_WORDS[current.status]
            if who == actor.name:  # their own earlier press (the ticket keeps names only)
                said = f"You have already dealt with this request ({status})."
            else:
                said = f"{who} has already dealt with this request ({status})."
        return Reply(replace=cards.request_card(current, self.signer), text=said)

    # --- the asker again ------------------------------------------------------------

    async def _follow_up(self, actor: Person, ticket: Ticket, data: Mapping[str, Any]) -> Reply:
        follow_up = data.get("followup")
        if not isinstance(follow_up, str) or not follow_up.strip():
            return Reply(text="Type your follow-up in the box, then press the button.")
        now = self.clock.now()
        limit = self.max_chars * 2
        updated = await self.store.apply(
            ticket.id, lambda t: lifecycle.followed_up(t, follow_up, limit, now), now
        )
        if updated is None:
            return Reply(text="That request is still open; your follow-up was not sent.")
        self.wake()
        who = updated.expert_name or ROUTE_NAMES[updated.route]
        return Reply(text=f"Your follow-up to request #{ticket.id} is on its way to {who}.")

    async def _withdraw(self, actor: Person, ticket: Ticket, data: Mapping[str, Any]) -> Reply:
        now = self.clock.now()
        updated = await self.store.apply(ticket.id, lambda t: lifecycle.withdrawn(t, now), now)
        if updated is None:
            return Reply(text="That request is already closed.")
        self.wake()
        tickets = await self.store.for_asker(actor.user_id)
        return Reply(
            replace=cards.my_requests_card(tickets, self.signer, self.policy_version),
            text=f"Request #{ticket.id} is withdrawn.",
        )
