"""Wire the insights into the app: their source, who may see them, `GET /insights`."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiohttp import web

from bot import logs
from bot.clock import Clock
from bot.connector import BotConnectorClient
from bot.core.types import Knowledge
from bot.escalation.setup import TeamMembers
from bot.insights.service import (
    DcctAccess,
    InsightsSource,
    InsightsView,
    NoTickets,
    PendingProposals,
    TicketHistory,
)
from bot.insights.web import insights_page
from bot.settings import Settings
from bot.store.answers import AnswerLog
from bot.store.feedback import FeedbackStore
from bot.webchat.setup import entra_validator
from bot.webchat.token import with_cors

log = logging.getLogger("bot.insights")
INSIGHTS_KEY = web.AppKey("insights", InsightsSource)


def setup_insights(
    app: web.Application,
    settings: Settings,
    knowledge: Knowledge,
    *,
    answers: AnswerLog,
    feedback: FeedbackStore,
    tickets: TicketHistory | None,
    connector: Callable[[], BotConnectorClient],
    clock: Clock,
    proposals: PendingProposals | None = None,
) -> InsightsView:
    """The page is mounted where its callers can be checked: with the Entra token check
    configured, or in local mode (then open to this machine)."""
    source = InsightsSource(
        answers, feedback, tickets or NoTickets(), knowledge, clock,
        retention_days=settings.store.retention_days, proposals=proposals,
    )  # fmt: skip
    app[INSIGHTS_KEY] = source
    members = TeamMembers(
        connector,
        settings.escalation.dcct_service_url,
        settings.escalation.dcct_team_id,
        teams_service_url=settings.escalation.teams_service_url,
    )
    access = DcctAccess(
        members, team_configured=bool(settings.escalation.dcct_team_id), local=settings.local_mode
    )
    validator = entra_validator(settings)
    if validator is None and not settings.local_mode:
        log.info("insights.page_off", extra=logs.fields(reason="no WEBCHAT_API_AUDIENCE"))
    else:
        handler = with_cors(
            insights_page(
                source,
                access,
                validator,
                # A page request brings no serviceUrl, so the DCCT's members are listed where
                # every proactive Teams send goes: the DCCT's own address, else the Teams one.
                service_url=settings.escalation.dcct_service_url
                or settings.escalation.teams_service_url,
            ),
            frozenset(settings.webchat.allowed_origins),
            methods="GET, OPTIONS",
        )
        app.router.add_get("/insights", handler)
        app.router.add_route("OPTIONS", "/insights", handler)
    return InsightsView(source, access)
