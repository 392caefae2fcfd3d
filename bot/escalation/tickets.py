"""A ticket: one person's request to their line manager or the DCCT, and what became of it.

Tickets are values (frozen): a change is a new ticket made by a transition in
lifecycle.py and written by the store (store.py) in the same transaction as the outbox
events that announce it. A mistyped field is an error, not a silently dropped key.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.core.types import Route


class Status(StrEnum):
    PENDING = "pending"  # written, not yet delivered to the expert
    SENT = "sent"  # the expert has the request
    TAKEN = "taken"  # a DCCT member said they'll answer
    ANSWERED = "answered"  # answer given and relayed; the asker may follow up
    CLOSED = "closed"  # closed by the expert without an answer
    CANCELLED = "cancelled"  # withdrawn by the asker
    FAILED = "failed"  # could not be delivered; the asker was told
    MAILED = "mailed"  # e-mailed to the DCCT, who reply by e-mail; closes after a while


# An expert may act on it and the asker may withdraw it.
OPEN_STATUSES = (Status.PENDING, Status.SENT, Status.TAKEN)
# Delivered and not yet at an end: reminders, the deadline and the mail close look here.
WAITING_STATUSES = (Status.SENT, Status.TAKEN, Status.MAILED)


class Outcome(StrEnum):
    APPROVE = "approve"
    NOT_OK = "not_ok"
    CHANGES = "changes"
    REPLY = "reply"


class Reroute(StrEnum):
    """Why a line manager's request went to the DCCT instead."""

    NO_MANAGER = "no_manager"
    MANAGER_UNREACHABLE = "manager_unreachable"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class CardAddress:
    """Where a sent card is, so it can be updated later."""

    service_url: str
    conversation_id: str
    activity_id: str


@dataclass(frozen=True)
class Ticket:
    id: int
    created_at: datetime
    status: Status
    route: Route  # line_manager or dcct
    asker_user_id: str
    asker_aad: str | None
    asker_name: str
    asker_conversation: dict[str, Any]
    tenant_id: str | None
    question: str | None  # blanked after the retention period
    verdict: str
    clauses: str  # comma-separated clause ids
    entry: str | None
    policy_version: str
    expert_aad: str | None = None
    expert_name: str | None = None
    expert_conversation: dict[str, Any] = field(default_factory=dict)
    expert_activity_id: str | None = None
    taken_by: str | None = None
    answer: str | None = None
    outcome: Outcome | None = None
    answered_by: str | None = None
    answered_at: datetime | None = None
    sent_at: datetime | None = None
    reminded_at: datetime | None = None
    rerouted: Reroute | None = None
    closed_at: datetime | None = None
    follow_ups: int = 0
    # The asker changed the question after the adviser answered it (the verdict and
    # clauses are about the question as first asked).
    edited: bool = False
    offer_id: str = ""  # the preview card it came from: a double click makes one ticket
    # The asker agreed that the DCCT may use an anonymised version of the question to
    # improve the adviser (off unless they tick it): only then can it become a ruling.
    learn_consent: bool = False

    def expert_card(self) -> CardAddress | None:
        """The expert's request card, if one was posted."""
        if not self.expert_activity_id:
            return None
        service_url, conversation_id = address(self.expert_conversation)
        return CardAddress(service_url, conversation_id, self.expert_activity_id)


def address(reference: dict[str, Any]) -> tuple[str, str]:
    """(service URL, conversation id) of a stored conversation reference."""
    conversation = reference.get("conversation") or {}
    return str(reference.get("serviceUrl", "")), str(conversation.get("id", ""))


def teams_address(
    asker: dict[str, Any], teams_service_url: str, app_id: str
) -> tuple[str, dict[str, Any]]:
    """(serviceUrl, bot account) for starting a Teams conversation about an asker: their
    own when they are in Teams (the tenant's region, as Teams told us), else the
    configured Teams service URL and the bot's Teams id."""
    if asker.get("channelId") == "msteams" and asker.get("serviceUrl"):
        return str(asker["serviceUrl"]), dict(asker.get("bot") or {})
    bot = {"id": f"28:{app_id}", "name": ""} if app_id else dict(asker.get("bot") or {})
    return teams_service_url, bot


_DATES = ("created_at", "answered_at", "sent_at", "reminded_at", "closed_at")
_ENUMS: dict[str, type[StrEnum]] = {
    "status": Status,
    "route": Route,
    "outcome": Outcome,
    "rerouted": Reroute,
}


def encode(ticket: Ticket) -> str:
    """The ticket as the JSON text the store keeps (its id is the row's)."""
    raw = asdict(ticket)
    raw.pop("id")
    for name in _DATES:
        raw[name] = raw[name].isoformat() if raw[name] else None
    for name in _ENUMS:
        raw[name] = raw[name].value if raw[name] is not None else None
    return json.dumps(raw, ensure_ascii=False)


def decode(ticket_id: int, data: str) -> Ticket:
    raw = json.loads(data)
    known = {f.name for f in fields(Ticket)}
    raw = {k: v for k, v in raw.items() if k in known}  # a field a later release dropped
    for name in _DATES:
        raw[name] = datetime.fromisoformat(raw[name]) if raw.get(name) else None
    for name, kind in _ENUMS.items():
        raw[name] = kind(raw[name]) if raw.get(name) else None
    return Ticket(id=ticket_id, **raw)
