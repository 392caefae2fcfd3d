"""What each outbox row does: find the expert, deliver the request, tell the asker.

One row, one outward send. `deliver` returns the ticket change the send made (delivered,
mailed, rerouted), and the worker commits it together with the row's completion as
soon as the send succeeds. A row is retried only if the send failed or the process died
before that commit (the one window in which a request can arrive twice; the card
then acts on the same ticket, so answering either copy is safe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot import logs
from bot.clock import Clock
from bot.connector import BotConnectorClient
from bot.conversation.cards import CONTENT_TYPE, notice_card
from bot.conversation.labels import ROUTE_NAMES
from bot.conversation.signing import CardSigner
from bot.core.types import Route
from bot.escalation import cards, lifecycle
from bot.escalation.activity_feed import ActivityFeed, RetryFeedLater
from bot.escalation.events import (
    DeliverRequest,
    FeedNotice,
    Notice,
    NotifyAsker,
    OutboxRow,
    RemindExpert,
    UnknownEventError,
    UpdateExpertCard,
)
from bot.escalation.lifecycle import Change, Expert
from bot.escalation.store import TicketStore, Transition
from bot.escalation.tickets import Reroute, Status, Ticket, address, teams_address
from bot.graph.client import Directory, DirectoryUser
from bot.graph.tokens import TokenError
from bot.http import ServiceError, TransportError

log = logging.getLogger("bot.escalation.delivery")


class RetryLaterError(Exception):
    """The send may work later; `after` is the service's Retry-After if it gave one."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        super().__init__(reason)
        self.after = after


class CannotDeliverError(Exception):
    """Permanent: retrying will not help (the asker is told)."""


@dataclass(frozen=True)
class DcctRoute:
    service_url: str  # empty: the asker's service URL (same tenant)
    team_id: str
    channel_id: str
    mailbox: str
    sender_mailbox: str

    @property
    def has_channel(self) -> bool:
        return bool(self.channel_id)

    @property
    def has_mailbox(self) -> bool:
        return bool(self.mailbox)


@dataclass(frozen=True)
class DeliveryConfig:
    dcct: DcctRoute
    catalog_app_id: str
    # For Teams sends when the asker is elsewhere (web chat): their serviceUrl is Direct
    # Line's, which cannot reach anyone in Teams.
    teams_service_url: str
    app_id: str = ""  # the bot's, as Teams names it (28:<app id>) in a new conversation
    tenant_id: str = ""  # the organisation's, for askers whose channel names none (web chat)


# Said mid-sentence ("Delivered to your line manager (local stand-in)").
LOCAL_MANAGER = "your line manager (local stand-in)"
LOCAL_DCCT = "DCCT (local stand-in)"


class Deliveries:
    def __init__(
        self,
        store: TicketStore,
        signer: CardSigner,
        clock: Clock,
        connector: Callable[[], BotConnectorClient],
        directory: Callable[[], Directory | None],
        config: DeliveryConfig,
        feed: ActivityFeed | None = None,
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.connector = connector
        self.directory = directory
        self.config = config
        self.feed = feed

    async def deliver(self, row: OutboxRow) -> Transition | None:
        """Do the row's send; return the ticket change it made, to commit with the row.
        Raises RetryLaterError or CannotDeliverError; anything else is a bug and is
        treated as permanent by the worker."""
        try:
            event = row.event
        except UnknownEventError as exc:
            raise CannotDeliverError(str(exc)) from exc
        ticket = await self.store.get(row.ticket_id)
        if ticket is None:
            return None
        try:
            match event:
                case DeliverRequest():
                    return await self._deliver_request(ticket)
                case NotifyAsker(notice=notice):
                    await self._notify_asker(ticket, notice)
                case RemindExpert():
                    return await self._remind_expert(ticket)
                case UpdateExpertCard():
                    await self._update_expert_card(ticket, event)
                case FeedNotice():
                    if self.feed is not None:
                        await self.feed.send(ticket, event)
        except ServiceError as exc:
            if exc.transient:
                raise RetryLaterError(f"{exc.service} {exc.status}", exc.retry_after) from exc
            raise CannotDeliverError(f"{exc.service} {exc.status} {exc.code}") from exc
        except (TransportError, TimeoutError, TokenError) as exc:
            raise RetryLaterError(type(exc).__name__) from exc
        except RetryFeedLater as exc:
            raise RetryLaterError(f"activity feed: {exc}") from exc
        return None

    async def failed(self, row: OutboxRow, reason: str) -> None:
        """A row gave up: a request that can't be delivered fails loudly to the asker."""
        if row.kind != DeliverRequest.kind:
            return
        now = self.clock.now()
        await self.store.apply(
            row.ticket_id, lambda ticket: lifecycle.failed(ticket, now, str(row.id)), now
        )

    # --- requests -------------------------------------------------------------------

    async def _deliver_request(self, ticket: Ticket) -> Transition | None:
        if ticket.status is not Status.PENDING:
            return None  # delivered already (a retry after the commit) or withdrawn
        if ticket.follow_ups and ticket.expert_conversation:
            return await self._send_request(
                ticket, ticket.expert_conversation, ticket.expert_name or ""
            )
        if ticket.route is Route.LINE_MANAGER:
            return await self._to_manager(ticket)
        return await self._to_dcct(ticket)

    async def _to_manager(self, ticket: Ticket) -> Transition:
        directory = self.directory()
        if directory is None:  # local mode: the asker's own chat stands in
            return await self._send_request(
                ticket, ticket.asker_conversation, LOCAL_MANAGER, ticket.asker_aad
            )
        manager = await directory.manager(ticket.asker_aad or "")
        if manager is None:
            return self._reroute(ticket, Reroute.NO_MANAGER)
        try:
            conversation = await self._personal_chat(ticket, manager, directory)
        except ServiceError as exc:
            if exc.status in (403, 404):  # not installed for them, or not a Teams user
                return self._reroute(ticket, Reroute.MANAGER_UNREACHABLE)
            raise
        return await self._send_request(ticket, conversation, manager.name, manager.id)

    async def _personal_chat(
        self, ticket: Ticket, manager: DirectoryUser, directory: Directory
    ) -> dict[str, Any]:
        if self.config.catalog_app_id:
            try:
                await directory.install_app(manager.id, self.config.catalog_app_id)
            except ServiceError as exc:
                if exc.transient:
                    raise
                # Blocked by policy or no licence: the conversation may still work if
                # the app is already installed, so go on and let that decide.
                log.warning("graph.install_failed", extra=logs.fields(status=exc.status))
        service_url, bot = self._teams(ticket)
        created = await self.connector().create_conversation(
            service_url,
            {
                "bot": _bot_account(bot),
                "members": [{"id": manager.id}],
                "isGroup": False,
                "tenantId": self._tenant(ticket),
                "channelData": {"tenant": {"id": self._tenant(ticket)}},
            },
        )
        return {
            "serviceUrl": service_url,
            "channelId": "msteams",
            "bot": bot,
            "conversation": {"id": created.get("id", ""), "tenantId": self._tenant(ticket)},
        }

    def _tenant(self, ticket: Ticket) -> str | None:
        return ticket.tenant_id or self.config.tenant_id or None

    def _teams(self, ticket: Ticket) -> tuple[str, dict[str, Any]]:
        return teams_address(
            ticket.asker_conversation, self.config.teams_service_url, self.config.app_id
        )

    async def _to_dcct(self, ticket: Ticket) -> Transition:
        dcct = self.config.dcct
        if self.directory() is None and not dcct.has_channel:
            return await self._send_request(
                ticket, ticket.asker_conversation, LOCAL_DCCT, ticket.asker_aad
            )
        directory = self.directory()
        can_mail = dcct.has_mailbox and directory is not None
        if dcct.has_channel:
            try:
                return await self._to_dcct_channel(ticket)
            except ServiceError as exc:
                # Retry what may pass later; a refusal (the app removed from the team,
                # 403; the channel gone, 404) goes by mail, as the runbook promises.
                if exc.transient or not can_mail:
                    raise
                log.warning(
                    "escalation.dcct_channel_refused",
                    extra=logs.fields(ticket=ticket.id, status=exc.status, code=exc.code),
                )
        if can_mail and directory is not None:
            await directory.send_mail(
                dcct.sender_mailbox,
                dcct.mailbox,
                f"Social media question from {ticket.asker_name} (request #{ticket.id})",
                cards.mail_html(ticket),
            )
            now = self.clock.now()
            log.info("escalation.delivered", extra=logs.fields(ticket=ticket.id,
                     route=ticket.route.value, via="mail"))  # fmt: skip
            return lambda t: lifecycle.mailed(t, now)
        raise CannotDeliverError("no DCCT channel or mailbox is configured")

    async def _to_dcct_channel(self, ticket: Ticket) -> Transition:
        dcct = self.config.dcct
        service_url, bot = self._teams(ticket)
        service_url = dcct.service_url or service_url
        created = await self.connector().create_conversation(
            service_url,
            {
                "bot": _bot_account(bot),
                "isGroup": True,
                "tenantId": self._tenant(ticket),
                "channelData": {"channel": {"id": dcct.channel_id},
                                "tenant": {"id": self._tenant(ticket)}},
                "activity": _card_activity(cards.request_card(ticket, self.signer)),
            },
        )  # fmt: skip
        conversation = {
            "serviceUrl": service_url,
            "channelId": "msteams",
            "bot": bot,
            "conversation": {"id": created.get("id", "")},
        }
        return self._sent(ticket, Expert("DCCT", None, conversation, created.get("activityId")))

    async def _send_request(
        self,
        ticket: Ticket,
        conversation: dict[str, Any],
        expert_name: str,
        expert_aad: str | None = None,
    ) -> Transition:
        activity_id = await self._post_card(conversation, cards.request_card(ticket, self.signer))
        return self._sent(ticket, Expert(expert_name, expert_aad, conversation, activity_id))

    def _sent(self, ticket: Ticket, expert: Expert) -> Transition:
        now = self.clock.now()
        log.info(
            "escalation.delivered",
            extra=logs.fields(ticket=ticket.id, route=ticket.route.value, via="teams"),
        )
        feed = self.feed.events(ticket, expert.activity_id, "request") if self.feed else ()

        def delivered(current: Ticket) -> Change | None:
            change = lifecycle.delivered(current, expert, now)
            # The alert goes with the change that records the delivery, or not at all.
            return replace(change, events=change.events + feed) if change and feed else change

        return delivered

    def _reroute(self, ticket: Ticket, reason: Reroute) -> Transition:
        now = self.clock.now()
        log.info("escalation.rerouted", extra=logs.fields(ticket=ticket.id, reason=reason.value))
        return lambda t: lifecycle.rerouted(t, reason, now)

    # --- the asker and the expert's card ---------------------------------------------

    async def _notify_asker(self, ticket: Ticket, notice: Notice) -> None:
        if notice is Notice.ANSWERED:
            content = cards.answer_card(ticket, self.signer)
        else:
            content = notice_card(_notice(ticket, notice), title=f"Request #{ticket.id}")
        await self._post_card(ticket.asker_conversation, content)

    async def _remind_expert(self, ticket: Ticket) -> Transition | None:
        if ticket.status not in (Status.SENT, Status.TAKEN) or not ticket.expert_conversation:
            return None
        reminder = cards.request_card(ticket, self.signer, reminder=True)
        activity_id = await self._post_card(ticket.expert_conversation, reminder)
        feed = self.feed.events(ticket, activity_id, "reminder") if self.feed else ()

        def posted(current: Ticket) -> Change | None:
            # The reminder is now the card to answer: later updates go to it, and the
            # first copy loses its buttons (its own outbox row, so this send is never
            # repeated); the alert about the reminder card goes with that change.
            change = lifecycle.reminder_posted(current, activity_id)
            return replace(change, events=change.events + feed) if change and feed else change

        return posted

    async def _update_expert_card(self, ticket: Ticket, event: UpdateExpertCard) -> None:
        card = event.card
        if not card.activity_id:
            return
        content = cards.request_card(
            ticket, self.signer, moved=event.moved, superseded=event.superseded
        )
        await self.connector().update(
            card.service_url, card.conversation_id, card.activity_id, _card_activity(content)
        )

    async def _post_card(self, reference: dict[str, Any], content: dict[str, Any]) -> str:
        """Send a card into a stored conversation (proactively); return its activity id."""
        service_url, conversation_id = address(reference)
        return await self.connector().send(service_url, conversation_id, _card_activity(content))


def _bot_account(bot: dict[str, Any]) -> dict[str, str]:
    return {"id": str(bot.get("id", "")), "name": str(bot.get("name", ""))}


def _card_activity(content: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "attachments": [{"contentType": CONTENT_TYPE, "content": content}],
    }


REROUTE_REASONS = {
    Reroute.NO_MANAGER: "no line manager is on record for you.",
    Reroute.MANAGER_UNREACHABLE: "I couldn't reach your line manager in Teams.",
    Reroute.DEADLINE: "your line manager hasn't answered in time.",
}


def _notice(ticket: Ticket, notice: Notice) -> str:
    who = ticket.expert_name or ROUTE_NAMES.get(ticket.route, "")
    reason = (
        REROUTE_REASONS.get(ticket.rerouted, "of a routing problem.") if ticket.rerouted else ""
    )
    messages = {
        Notice.SENT: f"Delivered to {who}. I'll bring you their answer here.",
        Notice.SENT_BY_MAIL: "Teams delivery to the DCCT is not available, so your request "
        "was e-mailed to the DCCT. They will contact you directly, by e-mail.",
        Notice.REROUTED: f"Sent to the DCCT instead, because {reason or 'of a routing problem.'}",
        Notice.REMINDED: f"No answer yet, so I have reminded {who}.",
        Notice.TAKEN: f"{ticket.taken_by or 'Someone'} from the DCCT is looking at your question.",
        Notice.CLOSED: f"{ticket.answered_by or who} closed your request without a written "
        "answer. If you still need advice, ask again or speak to them directly.",
        Notice.FAILED: "I'm sorry: I couldn't deliver your request, and nothing was sent. Please "
        "ask your line manager or the DCCT directly (Social Media policy, clauses F1 and F2).",
        Notice.MAIL_CLOSED: f"I've closed this request here: it was e-mailed to the DCCT on "
        f"{cards.when(ticket.sent_at)}, and they answer by e-mail, not in this chat. If they "
        "haven't been in touch, write to them directly.",
    }
    return messages.get(notice, f"Your request is {cards.STATUS_WORDS[ticket.status]}.")
