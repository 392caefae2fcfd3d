"""An alert in the expert's Teams activity feed beside each request card, best effort.

A request reaches the line manager or the DCCT as a bot message; Graph's
`sendActivityNotification` also puts it in their activity feed, linking to that card.
The alert is its own outbox row (a `FeedNotice`), queued with the change that records
the delivery, so it never delays or blocks the request: a permanent failure (the
permission not granted, the app not installed for someone) is logged and dropped; a
passing one is retried, and the retry replaces rather than repeats an alert already
shown (one chain per ticket).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot import logs
from bot.conversation.labels import verdict_badge
from bot.core.types import Route
from bot.escalation import deep_links
from bot.escalation.events import FeedNotice
from bot.escalation.tickets import Ticket, teams_address
from bot.graph.client import ActivityNotice, Directory
from bot.graph.tokens import TokenError
from bot.http import HttpError

log = logging.getLogger("bot.escalation.activity_feed")

REQUEST = "escalationRequest"  # the activity types in deploy/teams/manifest.template.json
REMINDER = "escalationReminder"


class RetryFeedLater(Exception):  # noqa: N818 - the worker's RetryLaterError wraps it
    """A passing failure: the whole alert is tried again (its chain id dedupes it)."""


@dataclass(frozen=True)
class FeedConfig:
    enabled: bool
    dcct_channel_id: str
    dcct_service_url: str
    teams_service_url: str = ""  # for an asker outside Teams (web chat: Direct Line's)


class ActivityFeed:
    def __init__(
        self,
        directory: Callable[[], Directory | None],
        dcct_members: Callable[[str], Awaitable[set[str]]],
        config: FeedConfig,
    ) -> None:
        self.directory = directory
        self.dcct_members = dcct_members  # Entra ids of the DCCT team, by service URL
        self.config = config

    def events(
        self, ticket: Ticket, activity_id: str | None, moment: str
    ) -> tuple[FeedNotice, ...]:
        """What to queue with a card just posted (`moment`: "request" or "reminder")."""
        if not self.config.enabled or not activity_id or self.directory() is None:
            return ()  # off, a mailed request, or local mode (nobody's feed to reach)
        tag = f"{ticket.route.value}-{ticket.follow_ups}"
        return (FeedNotice(moment, activity_id, tag),)

    async def send(self, ticket: Ticket, event: FeedNotice) -> None:
        directory = self.directory()
        if directory is None or not ticket.expert_conversation:
            return
        notice = self._notice(ticket, event.moment, event.activity_id)
        try:
            recipients = await self._recipients(ticket)
        except HttpError as exc:
            if exc.transient:
                raise RetryFeedLater(str(exc)) from exc
            log.warning("activity_feed.failed", extra=logs.fields(ticket=ticket.id, error=str(exc)))
            return
        retry = None
        sent = 0
        for user in sorted(recipients):
            try:
                await directory.notify_activity(user, notice)
                sent += 1
            except (HttpError, TokenError) as exc:
                status = getattr(exc, "status", 0)
                log.warning(
                    "activity_feed.failed",
                    extra=logs.fields(ticket=ticket.id, status=status,
                                      code=getattr(exc, "code", type(exc).__name__)),
                )  # fmt: skip
                if isinstance(exc, TokenError) or exc.transient:
                    retry = exc
        log.info("activity_feed.sent", extra=logs.fields(ticket=ticket.id, recipients=sent))
        if retry is not None:
            raise RetryFeedLater(str(retry)) from retry

    async def _recipients(self, ticket: Ticket) -> set[str]:
        if ticket.route is Route.DCCT:
            # The DCCT team is in Teams: asked at the asker's address only when that is
            # Teams', never at a web chat asker's Direct Line.
            asker = ticket.asker_conversation
            teams_url = teams_address(asker, self.config.teams_service_url, "")[0]
            service_url = self.config.dcct_service_url or teams_url
            return await self.dcct_members(service_url)
        return {ticket.expert_aad} if ticket.expert_aad else set()

    def _notice(self, ticket: Ticket, event: str, activity_id: str) -> ActivityNotice:
        if ticket.route is Route.DCCT:
            link = deep_links.channel_message(
                self.config.dcct_channel_id, activity_id, ticket.tenant_id
            )
        else:
            bot = (ticket.expert_conversation.get("bot") or {}).get("id", "")
            chat = deep_links.bot_chat_id(ticket.expert_aad or "", str(bot))
            link = deep_links.chat_message(chat, activity_id)
        said = verdict_badge(ticket.verdict)
        preview = (
            f"No answer yet. The adviser said: {said}. Open the request to answer."
            if event == "reminder"
            else f"The adviser said: {said}. Open the request to answer it."
        )
        return ActivityNotice(
            activity_type=REMINDER if event == "reminder" else REQUEST,
            topic=f"Request #{ticket.id}",
            web_url=link,
            preview=preview,  # never the question: a feed alert can show on a lock screen
            parameters={
                "asker": ticket.asker_name or "A member of staff",
                "request": f"#{ticket.id}",
            },
            chain_id=ticket.id,
        )
