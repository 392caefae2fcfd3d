"""Outbox events: one outward send each, named by an idempotency key.

A transition (lifecycle.py) returns the events its change must announce; the store
writes them with the ticket, in one transaction, as outbox rows keyed by `event.key(id)`.
The same logical send has the same key, and the outbox keeps a key once, so a
transition run twice (two replicas, two clicks) queues its sends once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from bot.escalation.tickets import CardAddress


class Kind(StrEnum):
    DELIVER_REQUEST = "deliver_request"  # find the expert and send them the request
    NOTIFY_ASKER = "notify_asker"  # tell the asker what happened
    UPDATE_EXPERT = "update_expert"  # change the expert's card in place
    REMIND_EXPERT = "remind_expert"  # a reminder card to the expert
    FEED_NOTICE = "feed_notice"  # an alert in the expert's Teams activity feed


class Notice(StrEnum):
    """What the asker is told."""

    SENT = "sent"
    SENT_BY_MAIL = "sent_by_mail"
    REROUTED = "rerouted"
    REMINDED = "reminded"
    TAKEN = "taken"
    ANSWERED = "answered"
    CLOSED = "closed"
    FAILED = "failed"
    MAIL_CLOSED = "mail_closed"


def _key(prefix: str, ticket_id: int, *parts: str) -> str:
    return ":".join([prefix, str(ticket_id), *[p for p in parts if p]])


@dataclass(frozen=True)
class DeliverRequest:
    reason: str  # "0" (the first), "dcct", "deadline", "followup-2", ...
    kind: ClassVar[Kind] = Kind.DELIVER_REQUEST

    def key(self, ticket_id: int) -> str:
        return _key("deliver", ticket_id, self.reason)

    def payload(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class NotifyAsker:
    notice: Notice
    tag: str = ""  # what makes a repeat of the notice a new one (the follow-up number)
    kind: ClassVar[Kind] = Kind.NOTIFY_ASKER

    def key(self, ticket_id: int) -> str:
        return _key("notify", ticket_id, self.notice.value, self.tag)

    def payload(self) -> dict[str, Any]:
        return {"event": self.notice.value}


@dataclass(frozen=True)
class UpdateExpertCard:
    card: CardAddress  # captured when queued: a reroute changes the ticket's expert
    moved: bool  # it went to the DCCT after the deadline: no action needed
    tag: str
    superseded: bool = False  # a reminder with the request was posted: answer that one
    kind: ClassVar[Kind] = Kind.UPDATE_EXPERT

    def key(self, ticket_id: int) -> str:
        return _key("update", ticket_id, self.tag)

    def payload(self) -> dict[str, Any]:
        return {
            "service_url": self.card.service_url,
            "conversation_id": self.card.conversation_id,
            "activity_id": self.card.activity_id,
            "moved": self.moved,
            "superseded": self.superseded,
        }


@dataclass(frozen=True)
class RemindExpert:
    tag: str
    kind: ClassVar[Kind] = Kind.REMIND_EXPERT

    def key(self, ticket_id: int) -> str:
        return _key("remind", ticket_id, self.tag)

    def payload(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class FeedNotice:
    """An activity-feed alert beside a request card just posted (activity_feed.py)."""

    moment: str  # "request" or "reminder"
    activity_id: str  # the card it links to
    tag: str = ""
    kind: ClassVar[Kind] = Kind.FEED_NOTICE

    def key(self, ticket_id: int) -> str:
        return _key("feed", ticket_id, self.moment, self.tag, self.activity_id)

    def payload(self) -> dict[str, Any]:
        return {"event": self.moment, "activity_id": self.activity_id}


Event = DeliverRequest | NotifyAsker | UpdateExpertCard | RemindExpert | FeedNotice


class UnknownEventError(ValueError):
    """An outbox row this release cannot read (a kind or notice it does not know)."""


def decode_event(kind: str, payload: dict[str, Any]) -> Event:
    """The event an outbox row holds (the key stays on the row)."""
    try:
        match Kind(kind):
            case Kind.DELIVER_REQUEST:
                return DeliverRequest("")
            case Kind.NOTIFY_ASKER:
                return NotifyAsker(Notice(str(payload.get("event", ""))))
            case Kind.REMIND_EXPERT:
                return RemindExpert("")
            case Kind.UPDATE_EXPERT:
                card = CardAddress(
                    str(payload.get("service_url", "")),
                    str(payload.get("conversation_id", "")),
                    str(payload.get("activity_id", "")),
                )
                return UpdateExpertCard(
                    card, bool(payload.get("moved")), "", bool(payload.get("superseded"))
                )
            case Kind.FEED_NOTICE:
                return FeedNotice(str(payload.get("event", "")), str(payload["activity_id"]))
    except ValueError:
        pass
    raise UnknownEventError(f"outbox kind {kind!r} with payload {sorted(payload)}")


@dataclass(frozen=True)
class OutboxRow:
    """A claimed outbox row: the worker holds it until `lease_until`."""

    id: int
    ticket_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    attempts: int  # including this one
    due_at: datetime
    lease_until: datetime | None
    claimed_by: str | None

    @property
    def event(self) -> Event:
        return decode_event(self.kind, self.payload)
