"""The ticket lifecycle, in one place: every change a ticket can go through.

Each transition is a pure function of the ticket as it is now (read under a row lock by
the store) to a `Change` (the new ticket and the outbox events announcing it), or None
when the change does not apply from that state: the store then writes nothing, which
is how "the first answer wins" and "a reminder is sent once" hold when two people or
two replicas act at once.

    confirmed ─► PENDING ─ delivered ─► SENT ─ taken ─► TAKEN
                  │  ▲                   │               │
      rerouted ◄──┘  └── rerouted (deadline, line manager) ◄┘
                  │                      ├─ answered ─► ANSWERED ─ followed_up ─► PENDING
                  ├─ mailed ─► MAILED    ├─ closed ───► CLOSED   ─ followed_up ─► PENDING
                  │     └─ mail_closed (after a set time): closed_at, asker told
                  ├─ failed ─► FAILED    └─ reminded (once per round), withdrawn ─► CANCELLED
                  └─ withdrawn ─► CANCELLED
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.conversation.types import Person
from bot.core.types import Route, Verdict
from bot.escalation.events import (
    DeliverRequest,
    Event,
    Notice,
    NotifyAsker,
    RemindExpert,
    UpdateExpertCard,
)
from bot.escalation.tickets import OPEN_STATUSES, Outcome, Reroute, Status, Ticket
from bot.escalation.working_hours import working_hours_between

MAIL_EXPERT = "DCCT (by e-mail)"


@dataclass(frozen=True)
class Change:
    ticket: Ticket
    events: tuple[Event, ...] = ()


@dataclass(frozen=True)
class Expert:
    """Who got the request and where: the card's conversation and activity."""

    name: str
    aad: str | None
    conversation: dict[str, Any]
    activity_id: str | None


@dataclass(frozen=True)
class LateRules:
    reminder_hours: float  # working hours before the expert is reminded
    deadline_hours: float  # working hours before a line manager's request moves on
    can_reroute: bool  # a DCCT route exists to move late line-manager requests to
    mailed_close_after: timedelta  # a mailed request closes here after this


def _round(ticket: Ticket) -> str:
    """Tells one delivery round from the next: the route and the follow-up number."""
    return f"{ticket.route.value}-{ticket.follow_ups}"


class Judged(Protocol):
    """What the adviser said that goes with a request: an Advice, or what a preview
    card showed of one (service.Offer)."""

    @property
    def verdict(self) -> Verdict: ...
    @property
    def clauses(self) -> tuple[str, ...]: ...
    @property
    def entry(self) -> str | None: ...
    @property
    def policy_version(self) -> str: ...


def confirmed(
    asker: Person,
    route: Route,
    question: str,
    advice: Judged,
    offer_id: str,
    now: datetime,
    *,
    edited: bool = False,
    learn_consent: bool = False,
) -> Change:
    """The asker pressed Send request (id 0 until the store writes it). `advice` is about
    the question as first asked; `edited`: the asker changed it before sending;
    `learn_consent`: they also agreed that the DCCT may use an anonymised version to
    improve the adviser."""
    ticket = Ticket(
        id=0,
        created_at=now,
        status=Status.PENDING,
        route=route,
        asker_user_id=asker.user_id,
        asker_aad=asker.aad_object_id,
        asker_name=asker.name,
        asker_conversation=asker.conversation,
        tenant_id=asker.tenant_id,
        question=question,
        verdict=advice.verdict.value,
        clauses=",".join(advice.clauses),
        entry=advice.entry,
        policy_version=advice.policy_version,
        edited=edited,
        offer_id=offer_id,
        learn_consent=learn_consent,
    )
    return Change(ticket, (DeliverRequest("0"),))


def delivered(ticket: Ticket, expert: Expert, now: datetime) -> Change | None:
    """The request card reached the expert."""
    if ticket.status is not Status.PENDING:
        return None
    sent = replace(
        ticket,
        status=Status.SENT,
        expert_name=expert.name,
        expert_aad=expert.aad or ticket.expert_aad,
        expert_conversation=expert.conversation,
        expert_activity_id=expert.activity_id,
        sent_at=now,
    )
    return Change(sent, (NotifyAsker(Notice.SENT, _round(ticket)),))


def mailed(ticket: Ticket, now: datetime) -> Change | None:
    """Teams delivery to the DCCT was not possible, so it went to their mailbox."""
    if ticket.status is not Status.PENDING:
        return None
    sent = replace(
        ticket,
        status=Status.MAILED,
        expert_name=MAIL_EXPERT,
        expert_conversation={},
        expert_activity_id=None,
        sent_at=now,
    )
    return Change(sent, (NotifyAsker(Notice.SENT_BY_MAIL, _round(ticket)),))


def mail_closed(ticket: Ticket, now: datetime, after: timedelta) -> Change | None:
    """A mailed request ends here a while after the mail: the DCCT answer by e-mail, so
    `my requests` must not say "waiting" for ever, and retention can then delete it."""
    if ticket.status is not Status.MAILED or ticket.closed_at is not None:
        return None
    if ticket.sent_at is None or now - ticket.sent_at < after:
        return None
    closed = replace(ticket, closed_at=now)
    return Change(closed, (NotifyAsker(Notice.MAIL_CLOSED, str(ticket.follow_ups)),))


def rerouted(ticket: Ticket, reason: Reroute, now: datetime) -> Change | None:
    """A line manager's request goes to the DCCT: none on record, unreachable (before
    delivery), or not answered by the deadline (after it)."""
    if ticket.route is not Route.LINE_MANAGER:
        return None
    if reason is not Reroute.DEADLINE:
        if ticket.status is not Status.PENDING:
            return None
        moved = replace(ticket, route=Route.DCCT, rerouted=reason)
        return Change(moved, (DeliverRequest("dcct"), NotifyAsker(Notice.REROUTED)))
    if ticket.status not in (Status.SENT, Status.TAKEN):
        return None
    events: list[Event] = [DeliverRequest("deadline"), NotifyAsker(Notice.REROUTED, "deadline")]
    card = ticket.expert_card()
    if card is not None:
        events.append(UpdateExpertCard(card, moved=True, tag=f"moved-{ticket.follow_ups}"))
    moved = replace(
        ticket,
        status=Status.PENDING,
        route=Route.DCCT,
        rerouted=reason,
        expert_aad=None,
        expert_name=None,
        expert_conversation={},
        expert_activity_id=None,
        taken_by=None,
        reminded_at=None,  # a new round: the DCCT get their own reminder
    )
    return Change(moved, tuple(events))


def reminded(ticket: Ticket, now: datetime) -> Change | None:
    """The expert is reminded once per round, and the asker told."""
    if ticket.status not in (Status.SENT, Status.TAKEN) or ticket.reminded_at is not None:
        return None
    if not ticket.expert_conversation:  # nowhere to post a reminder card
        return None
    tag = _round(ticket)
    events = (RemindExpert(tag), NotifyAsker(Notice.REMINDED, tag))
    return Change(replace(ticket, reminded_at=now), events)


def reminder_posted(ticket: Ticket, activity_id: str | None) -> Change | None:
    """The reminder card is now the one to answer: later updates go to it, and the first
    copy loses its buttons, so only one card can act on the request."""
    if not activity_id:
        return None
    first = ticket.expert_card()
    events: tuple[Event, ...] = ()
    if first is not None and first.activity_id != activity_id:
        tag = f"superseded-{ticket.follow_ups}"
        events = (UpdateExpertCard(first, moved=False, tag=tag, superseded=True),)
    return Change(replace(ticket, expert_activity_id=activity_id), events)


def late(ticket: Ticket, now: datetime, rules: LateRules) -> Change | None:
    """What the sweep does with a waiting ticket: move it, remind, close a mailed one."""
    if ticket.status is Status.MAILED:
        return mail_closed(ticket, now, rules.mailed_close_after)
    if ticket.status not in (Status.SENT, Status.TAKEN) or ticket.sent_at is None:
        return None
    waited = working_hours_between(ticket.sent_at, now)
    if ticket.route is Route.LINE_MANAGER and waited >= rules.deadline_hours and rules.can_reroute:
        return rerouted(ticket, Reroute.DEADLINE, now)
    if waited >= rules.reminder_hours:
        return reminded(ticket, now)
    return None


def taken(ticket: Ticket, by: str, now: datetime) -> Change | None:
    """A DCCT member said they will answer."""
    if ticket.status is not Status.SENT:
        return None
    notice = NotifyAsker(Notice.TAKEN, str(ticket.follow_ups))
    return Change(replace(ticket, status=Status.TAKEN, taken_by=by), (notice,))


def answered(
    ticket: Ticket, outcome: Outcome, answer: str | None, by: str, now: datetime
) -> Change | None:
    """The first answer wins."""
    if ticket.status not in OPEN_STATUSES:
        return None
    done = replace(
        ticket,
        status=Status.ANSWERED,
        outcome=outcome,
        answer=answer or None,
        answered_by=by,
        answered_at=now,
        closed_at=now,
    )
    return Change(done, (NotifyAsker(Notice.ANSWERED, str(ticket.follow_ups)),))


def closed(ticket: Ticket, by: str, now: datetime) -> Change | None:
    """The expert closed it without a written answer."""
    if ticket.status not in OPEN_STATUSES:
        return None
    done = replace(ticket, status=Status.CLOSED, answered_by=by, closed_at=now)
    return Change(done, (NotifyAsker(Notice.CLOSED, str(ticket.follow_ups)),))


def followed_up(ticket: Ticket, text: str, max_chars: int, now: datetime) -> Change | None:
    """The asker asks again after an answer (or a close): back to the same expert."""
    if ticket.status not in (Status.ANSWERED, Status.CLOSED):
        return None
    number = ticket.follow_ups + 1
    question = f"{ticket.question or ''}\n\nFollow-up {number}: {text.strip()}"
    again = replace(
        ticket,
        status=Status.PENDING,
        question=question[:max_chars],
        follow_ups=number,
        answer=None,
        outcome=None,
        answered_by=None,
        answered_at=None,
        closed_at=None,
        taken_by=None,
        reminded_at=None,
    )
    return Change(again, (DeliverRequest(f"followup-{number}"),))


def withdrawn(ticket: Ticket, now: datetime) -> Change | None:
    """The asker withdrew it; the expert's card says so."""
    if ticket.status not in OPEN_STATUSES:
        return None
    card = ticket.expert_card()
    events: tuple[Event, ...] = ()
    if card is not None:
        events = (UpdateExpertCard(card, moved=False, tag=f"withdrawn-{ticket.follow_ups}"),)
    return Change(replace(ticket, status=Status.CANCELLED, closed_at=now), events)


def failed(ticket: Ticket, now: datetime, attempt: str) -> Change | None:
    """The request could not be delivered: the asker is told, loudly."""
    if ticket.status is not Status.PENDING:
        return None
    done = replace(ticket, status=Status.FAILED, closed_at=now)
    return Change(done, (NotifyAsker(Notice.FAILED, attempt),))
