"""Gather the records for a period and build its insights; say who may see them.

The stores are reached through small read interfaces, so the SQLite stores, a
PostgreSQL one or an in-memory fake all serve. The proposals (DCCT rulings waiting for a
second member) are another part's store: `PendingProposals` is all insights need of it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import Enum
from typing import Protocol

from bot import logs
from bot.clock import Clock
from bot.conversation.types import Person, Reply
from bot.core.types import Knowledge
from bot.escalation.service import MembershipCheck
from bot.escalation.tickets import Ticket
from bot.insights.card import insights_card
from bot.insights.report import Insights, Period, build, week_start
from bot.store.answers import AnswerLog
from bot.store.feedback import FeedbackStore

log = logging.getLogger("bot.insights")
DEFAULT_WEEKS = 12


class PendingProposals(Protocol):
    async def pending_count(self) -> int:
        """Proposals waiting for a second DCCT member's approval."""
        ...


class NoProposals:
    """Where there is no rulings desk (no escalation, so no proposals): none are pending."""

    async def pending_count(self) -> int:
        return 0


class TicketHistory(Protocol):
    async def created_between(self, since: datetime, until: datetime) -> list[Ticket]: ...


class NoTickets:
    async def created_between(self, since: datetime, until: datetime) -> list[Ticket]:
        return []


class InsightsSource:
    def __init__(
        self,
        answers: AnswerLog,
        feedback: FeedbackStore,
        tickets: TicketHistory,
        knowledge: Knowledge,
        clock: Clock,
        *,
        retention_days: int,
        proposals: PendingProposals | None = None,
    ) -> None:
        self.answers = answers
        self.feedback = feedback
        self.tickets = tickets
        self.knowledge = knowledge
        self.clock = clock
        self.retention_days = retention_days
        self.proposals = proposals or NoProposals()

    def default_period(self) -> Period:
        """The last twelve weeks, from a Monday, up to now."""
        now = self.clock.now()
        start = week_start(now) - timedelta(weeks=DEFAULT_WEEKS - 1)
        return Period.from_dates(start, None, now)

    async def report(self, period: Period | None = None) -> Insights:
        period = period or self.default_period()
        events = await self.answers.between(period.since, period.until)
        votes = await self.feedback.all()
        tickets = await self.tickets.created_between(period.since, period.until)
        return build(
            period,
            events,
            votes,
            tickets,
            self.knowledge,
            pending_proposals=await self.proposals.pending_count(),
            retention_days=self.retention_days,
        )


class Access(Enum):
    ALLOWED = "allowed"
    REFUSED = "refused"
    UNKNOWN = "unknown"  # the DCCT team's members could not be read


class DcctAccess:
    """Members of the configured DCCT team may see the insights; in local mode with no
    team configured, the person at the machine stands in for the DCCT."""

    def __init__(self, members: MembershipCheck, *, team_configured: bool, local: bool) -> None:
        self.members = members
        self.team_configured = team_configured
        self.local = local

    async def check(self, person: Person) -> Access:
        if not self.team_configured:
            return Access.ALLOWED if self.local else Access.REFUSED
        try:
            member = await self.members.is_member(person)
        except Exception:
            log.exception("insights.membership_unknown")
            return Access.UNKNOWN
        return Access.ALLOWED if member else Access.REFUSED


REFUSED = "The insights are for members of the DCCT team only."
UNKNOWN = (
    "I couldn't check the DCCT team's members just now, so I can't show the insights. "
    "Please try again in a minute."
)


class InsightsView:
    """The `insights` command in a chat: an Adaptive Card for the DCCT, a refusal for
    anyone else."""

    def __init__(self, source: InsightsSource, access: DcctAccess) -> None:
        self.source = source
        self.access = access

    async def show(self, person: Person) -> Reply:
        access = await self.access.check(person)
        log.info("insights.requested", extra=logs.fields(access=access.value))
        if access is Access.REFUSED:
            return Reply(text=REFUSED)
        if access is Access.UNKNOWN:
            return Reply(text=UNKNOWN)
        return Reply(card=insights_card(await self.source.report()))
