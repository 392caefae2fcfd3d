"""The ticket lifecycle as pure functions: from which states each change applies, what
it changes and which sends it queues (with their keys). No database, no clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import FrozenInstanceError, replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.types import Route
from bot.escalation import lifecycle
from bot.escalation.events import (
    DeliverRequest,
    Notice,
    NotifyAsker,
    RemindExpert,
    UpdateExpertCard,
    decode_event,
)
from bot.escalation.lifecycle import Change, Expert, LateRules
from bot.escalation.tickets import CardAddress, Outcome, Reroute, Status, Ticket, decode, encode
from tests.store.helpers import ADVICE, asker, new_ticket

# Wednesday 25 November 2026, 10:00 UTC: working hours in Edinburgh.
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
EXPERT = Expert("Alex Boss", "aad-boss", {"serviceUrl": "http://x/",
                "conversation": {"id": "a:boss"}}, "activity-7")  # fmt: skip
RULES = LateRules(8, 16, can_reroute=True, mailed_close_after=timedelta(days=5))
T = Callable[[Ticket], Change | None]

TRANSITIONS: dict[str, tuple[T, set[Status]]] = {
    "delivered": (lambda t: lifecycle.delivered(t, EXPERT, NOW), {Status.PENDING}),
    "mailed": (lambda t: lifecycle.mailed(t, NOW), {Status.PENDING}),
    "rerouted": (lambda t: lifecycle.rerouted(t, Reroute.NO_MANAGER, NOW), {Status.PENDING}),
    "rerouted at the deadline": (
        lambda t: lifecycle.rerouted(t, Reroute.DEADLINE, NOW), {Status.SENT, Status.TAKEN},
    ),
    "reminded": (lambda t: lifecycle.reminded(t, NOW), {Status.SENT, Status.TAKEN}),
    "taken": (lambda t: lifecycle.taken(t, "Dana", NOW), {Status.SENT}),
    "answered": (
        lambda t: lifecycle.answered(t, Outcome.APPROVE, "", "Alex", NOW),
        {Status.PENDING, Status.SENT, Status.TAKEN},
    ),
    "closed": (lambda t: lifecycle.closed(t, "Alex", NOW),
               {Status.PENDING, Status.SENT, Status.TAKEN}),
    "followed up": (lambda t: lifecycle.followed_up(t, "And?", 8000, NOW),
                    {Status.ANSWERED, Status.CLOSED}),
    "withdrawn": (lambda t: lifecycle.withdrawn(t, NOW),
                  {Status.PENDING, Status.SENT, Status.TAKEN}),
    "failed": (lambda t: lifecycle.failed(t, NOW, "9"), {Status.PENDING}),
    "mail closed": (lambda t: lifecycle.mail_closed(t, NOW + timedelta(days=6), timedelta(5)),
                    {Status.MAILED}),
}  # fmt: skip


def in_state(status: Status) -> Ticket:
    """A ticket in `status`, with an expert card and a send time, as a real one would be."""
    ticket = replace(new_ticket(NOW), id=7)
    return replace(
        ticket,
        status=status,
        sent_at=NOW,
        expert_name=EXPERT.name,
        expert_conversation=EXPERT.conversation,
        expert_activity_id="activity-7",
    )


@pytest.mark.parametrize("name", sorted(TRANSITIONS))
def test_each_transition_applies_only_from_its_states(name: str) -> None:
    transition, allowed = TRANSITIONS[name]
    for status in Status:
        change = transition(in_state(status))
        assert (change is not None) == (status in allowed), (name, status)
        if change is not None:
            assert change.ticket.id == 7


def test_confirmed_queues_the_first_delivery() -> None:
    change = lifecycle.confirmed(asker(), Route.DCCT, "Can I?", ADVICE, "offer-1", NOW)
    assert change.ticket.status is Status.PENDING
    assert change.ticket.route is Route.DCCT
    assert change.events == (DeliverRequest("0"),)
    assert change.events[0].key(12) == "deliver:12:0"


def test_delivered_records_the_expert_and_tells_the_asker_once_per_round() -> None:
    change = lifecycle.delivered(in_state(Status.PENDING), EXPERT, NOW)
    assert change is not None
    ticket = change.ticket
    assert (ticket.status, ticket.expert_name, ticket.expert_activity_id, ticket.sent_at) == (
        Status.SENT, "Alex Boss", "activity-7", NOW,
    )  # fmt: skip
    assert change.events == (NotifyAsker(Notice.SENT, "line_manager-0"),)
    follow_up = replace(in_state(Status.PENDING), follow_ups=2)
    again = lifecycle.delivered(follow_up, EXPERT, NOW)
    assert again is not None
    assert again.events[0].key(7) == "notify:7:sent:line_manager-2"


def test_the_deadline_moves_the_request_and_retires_the_manager_card() -> None:
    change = lifecycle.rerouted(in_state(Status.TAKEN), Reroute.DEADLINE, NOW)
    assert change is not None
    ticket = change.ticket
    assert (ticket.status, ticket.route, ticket.rerouted) == (
        Status.PENDING, Route.DCCT, Reroute.DEADLINE,
    )  # fmt: skip
    assert (ticket.expert_aad, ticket.expert_conversation, ticket.taken_by) == (None, {}, None)
    card = CardAddress("http://x/", "a:boss", "activity-7")
    assert change.events == (
        DeliverRequest("deadline"),
        NotifyAsker(Notice.REROUTED, "deadline"),
        UpdateExpertCard(card, moved=True, tag="moved-0"),
    )
    dcct = replace(in_state(Status.SENT), route=Route.DCCT)
    assert lifecycle.rerouted(dcct, Reroute.DEADLINE, NOW) is None, "the DCCT is the end"


def test_reminded_once_and_only_with_a_card_to_remind() -> None:
    change = lifecycle.reminded(in_state(Status.SENT), NOW)
    assert change is not None
    assert change.events == (RemindExpert("line_manager-0"),
                             NotifyAsker(Notice.REMINDED, "line_manager-0"))  # fmt: skip
    assert lifecycle.reminded(change.ticket, NOW) is None
    cardless = replace(in_state(Status.SENT), expert_conversation={})
    assert lifecycle.reminded(cardless, NOW) is None


def test_late_picks_the_deadline_then_the_reminder_by_working_hours() -> None:
    sent = in_state(Status.SENT)
    assert lifecycle.late(sent, NOW + timedelta(hours=4), RULES) is None
    reminder = lifecycle.late(sent, NOW + timedelta(days=1, hours=1), RULES)  # 8 working hours
    assert reminder is not None
    assert reminder.ticket.reminded_at is not None
    moved = lifecycle.late(reminder.ticket, NOW + timedelta(days=2, hours=1), RULES)
    assert moved is not None
    assert moved.ticket.route is Route.DCCT
    no_dcct = replace(RULES, can_reroute=False)
    assert lifecycle.late(reminder.ticket, NOW + timedelta(days=2, hours=1), no_dcct) is None


def test_a_mailed_request_ends_after_its_time_and_the_asker_is_told() -> None:
    change = lifecycle.mailed(in_state(Status.PENDING), NOW)
    assert change is not None
    mailed = change.ticket
    assert (mailed.status, mailed.expert_name, mailed.expert_conversation) == (
        Status.MAILED, lifecycle.MAIL_EXPERT, {},
    )  # fmt: skip
    assert change.events == (NotifyAsker(Notice.SENT_BY_MAIL, "line_manager-0"),)
    assert lifecycle.late(mailed, NOW + timedelta(days=4), RULES) is None
    closed = lifecycle.late(mailed, NOW + timedelta(days=5), RULES)
    assert closed is not None
    assert closed.ticket.closed_at == NOW + timedelta(days=5), "retention counts from here"
    assert closed.events == (NotifyAsker(Notice.MAIL_CLOSED, "0"),)
    assert lifecycle.late(closed.ticket, NOW + timedelta(days=9), RULES) is None, "once"


def test_answered_closes_and_a_follow_up_reopens_for_the_same_expert() -> None:
    change = lifecycle.answered(in_state(Status.SENT), Outcome.NOT_OK, "No.", "Alex", NOW)
    assert change is not None
    answered = change.ticket
    assert (answered.outcome, answered.answer, answered.closed_at) == (Outcome.NOT_OK, "No.", NOW)
    again = lifecycle.followed_up(answered, "  Even cropped? ", 60, NOW)
    assert again is not None
    ticket = again.ticket
    assert ticket.status is Status.PENDING
    assert ticket.follow_ups == 1
    assert (ticket.answer, ticket.outcome, ticket.closed_at) == (None, None, None)
    assert ticket.expert_conversation == EXPERT.conversation, "it goes back to them"
    assert ticket.question is not None
    assert len(ticket.question) == 60
    assert again.events == (DeliverRequest("followup-1"),)


def test_withdrawn_updates_the_expert_card_only_if_there_is_one() -> None:
    change = lifecycle.withdrawn(in_state(Status.SENT), NOW)
    assert change is not None
    assert [type(e) for e in change.events] == [UpdateExpertCard]
    pending = replace(in_state(Status.PENDING), expert_activity_id=None)
    bare = lifecycle.withdrawn(pending, NOW)
    assert bare is not None
    assert bare.events == ()


def test_a_posted_reminder_is_the_card_to_answer_and_the_first_loses_its_buttons() -> None:
    sent = in_state(Status.SENT)
    change = lifecycle.reminder_posted(sent, "activity-reminder")
    assert change is not None
    assert change.ticket.expert_activity_id == "activity-reminder"
    [update] = change.events
    assert isinstance(update, UpdateExpertCard)
    assert update.superseded
    assert update.card == sent.expert_card()
    assert lifecycle.reminder_posted(sent, None) is None  # nothing was posted


def test_tickets_are_values_and_survive_the_store_encoding() -> None:
    ticket = in_state(Status.ANSWERED)
    ticket = replace(ticket, outcome=Outcome.CHANGES, rerouted=Reroute.NO_MANAGER)
    with pytest.raises(FrozenInstanceError):
        ticket.status = Status.SENT  # type: ignore[misc]
    with pytest.raises(TypeError):
        replace(ticket, statuss=Status.SENT)  # type: ignore[call-arg]  # an error, not dropped
    assert decode(7, encode(ticket)) == ticket


def test_events_read_back_from_their_rows() -> None:
    card = CardAddress("http://x/", "a:boss", "activity-7")
    for event in (DeliverRequest("0"), NotifyAsker(Notice.TAKEN, "1"), RemindExpert("r"),
                  UpdateExpertCard(card, moved=True, tag="t"),
                  UpdateExpertCard(card, moved=False, tag="s", superseded=True)):  # fmt: skip
        back = decode_event(event.kind.value, event.payload())
        assert type(back) is type(event)
        assert back.payload() == event.payload()
    with pytest.raises(ValueError, match="outbox kind"):
        decode_event("send_pigeon", {})
    with pytest.raises(ValueError, match="outbox kind"):
        decode_event("notify_asker", {"event": "confetti"})
