"""Tickets, people and advice for store tests, without the adviser."""

from __future__ import annotations

from datetime import datetime

from bot.conversation.types import Person
from bot.core.types import Advice, Route, Verdict
from bot.escalation import lifecycle
from bot.escalation.lifecycle import Change
from bot.escalation.tickets import Ticket


def asker(number: int = 1, service_url: str = "http://127.0.0.1:9/") -> Person:
    return Person(
        user_id=f"29:user-{number}",
        name="Morag Stewart",
        aad_object_id=f"aad-{number}",
        tenant_id="tenant-1",
        channel_id="msteams",
        conversation={"serviceUrl": service_url, "conversation": {"id": f"a:c{number}"},
                      "bot": {"id": "28:bot", "name": "Adviser"}},
    )  # fmt: skip


ADVICE = Advice(
    verdict=Verdict.ASK,
    clauses=("D9", "F1"),
    entry=None,
    confidence=0.5,
    route=Route.LINE_MANAGER,
    answer="Ask first.",
    policy_version="sha256:test",
)


def confirmed(
    now: datetime,
    number: int = 1,
    offer: str = "",
    route: Route = Route.LINE_MANAGER,
    service_url: str = "http://127.0.0.1:9/",
) -> Change:
    question = "Can I post a photo from the garden party?"
    return lifecycle.confirmed(asker(number, service_url), route, question, ADVICE, offer, now)


def new_ticket(now: datetime, number: int = 1) -> Ticket:
    return confirmed(now, number).ticket
