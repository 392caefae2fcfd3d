"""What each outbox row does: find the expert, deliver the request, tell the asker.

One row, one outward send, and the ticket change that records it is committed as soon
as the send succeeds. A row is retried only if the send failed or the process died
before that commit (the one window in which a request can arrive twice; the card
then acts on the same ticket, so answering either copy is safe).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import logs
from bot.clock import Clock
from bot.connector import BotConnectorClient
from bot.conversation.cards import CONTENT_TYPE, notice_card
from bot.conversation.labels import ROUTE_NAMES
from bot.escalation import cards
from bot.escalation.signing import CardSigner
from bot.escalation.tickets import OutboxItem, OutboxRow, Status, Ticket, TicketStore, address
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


@dataclass(frozen=True)
class DeliveryConfig:
    dcct: DcctRoute
    catalog_app_id: str


LOCAL_MANAGER = "Your line manager (local stand-in)"
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
    ) -> None:
        self.store = store
        self.signer = signer
        self.clock = clock
        self.connector = connector
        self.directory = directory
        self.config = config

    async def deliver(self, row: OutboxRow) -> None:
        """Do the row's send. Raises RetryLaterError or CannotDeliverError; anything else is a bug
        and is treated as permanent by the worker."""
        ticket = await self.store.get(row.ticket_id)
        if ticket is None:
            return
        try:
            if row.kind == "deliver_request":
                await self._deliver_request(ticket)
            elif row.kind == "notify_asker":
                await self._notify_asker(ticket, str(row.payload.get("event", "")))
            elif row.kind in ("update_expert", "remind_expert"):
                await self._expert_card(ticket, row.kind, row.payload)
            else:
                raise CannotDeliverError(f"unknown outbox kind {row.kind!r}")
        except ServiceError as exc:
            if exc.transient:
                raise RetryLaterError(f"{exc.service} {exc.status}", exc.retry_after) from exc
            raise CannotDeliverError(f"{exc.service} {exc.status} {exc.code}") from exc
        except (TransportError, TimeoutError, TokenError) as exc:
            raise RetryLaterError(type(exc).__name__) from exc

    async def failed(self, row: OutboxRow, reason: str) -> None:
        """A row gave up: a request that can't be delivered fails loudly to the asker."""
        if row.kind != "deliver_request":
            return
        await self.store.update(
            row.ticket_id,
            {"status": Status.FAILED, "closed_at": self.clock.now()},
            [OutboxItem("notify_asker", f"notify:{row.ticket_id}:failed:{row.id}",
                        {"event": "failed"})],
            now=self.clock.now(),
            only_if=(Status.PENDING,),
        )  # fmt: skip

    # --- requests -------------------------------------------------------------------

    async def _deliver_request(self, ticket: Ticket) -> None:
        if ticket.status is not Status.PENDING:
            return  # delivered already (a retry after the commit) or withdrawn
        if ticket.follow_ups and ticket.expert_conversation:
            await self._send_request(ticket, ticket.expert_conversation, ticket.expert_name or "")
            return
        if ticket.route == "line_manager":
            await self._to_manager(ticket)
        else:
            await self._to_dcct(ticket)

    async def _to_manager(self, ticket: Ticket) -> None:
        directory = self.directory()
        if directory is None:  # local mode: the asker's own chat stands in
            await self._send_request(
                ticket, ticket.asker_conversation, LOCAL_MANAGER, ticket.asker_aad
            )
            return
        manager = await directory.manager(ticket.asker_aad or "")
        if manager is None:
            await self._reroute(ticket, "no_manager")
            return
        try:
            conversation = await self._personal_chat(ticket, manager, directory)
        except ServiceError as exc:
            if exc.status in (403, 404):  # not installed for them, or not a Teams user
                await self._reroute(ticket, "manager_unreachable")
                return
            raise
        await self._send_request(ticket, conversation, manager.name, manager.id)

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
        service_url = ticket.asker_conversation.get("serviceUrl", "")
        bot = ticket.asker_conversation.get("bot") or {}
        created = await self.connector().create_conversation(
            service_url,
            {
                "bot": _bot_account(bot),
                "members": [{"id": manager.id}],
                "isGroup": False,
                "tenantId": ticket.tenant_id,
                "channelData": {"tenant": {"id": ticket.tenant_id}},
            },
        )
        return {
            "serviceUrl": service_url,
            "channelId": ticket.asker_conversation.get("channelId", "msteams"),
            "bot": bot,
            "conversation": {"id": created.get("id", ""), "tenantId": ticket.tenant_id},
        }

    async def _to_dcct(self, ticket: Ticket) -> None:
        dcct = self.config.dcct
        if self.directory() is None and not dcct.has_channel:
            await self._send_request(
                ticket, ticket.asker_conversation, LOCAL_DCCT, ticket.asker_aad
            )
            return
        if dcct.has_channel:
            service_url = dcct.service_url or ticket.asker_conversation.get("serviceUrl", "")
            bot = ticket.asker_conversation.get("bot") or {}
            created = await self.connector().create_conversation(
                service_url,
                {
                    "bot": _bot_account(bot),
                    "isGroup": True,
                    "tenantId": ticket.tenant_id,
                    "channelData": {"channel": {"id": dcct.channel_id},
                                    "tenant": {"id": ticket.tenant_id}},
                    "activity": _card_activity(cards.request_card(ticket, self.signer)),
                },
            )  # fmt: skip
            conversation = {
                "serviceUrl": service_url,
                "channelId": "msteams",
                "bot": bot,
                "conversation": {"id": created.get("id", "")},
            }
            await self._sent(ticket, conversation, "DCCT", None, created.get("activityId"))
            return
        directory = self.directory()
        if dcct.mailbox and directory is not None:
            await directory.send_mail(
                dcct.sender_mailbox,
                dcct.mailbox,
                f"Social media question from {ticket.asker_name} (request #{ticket.id})",
                cards.mail_html(ticket),
            )
            await self._sent(ticket, {}, "DCCT (by e-mail)", None, None, event="sent_by_mail")
            return
        raise CannotDeliverError("no DCCT channel or mailbox is configured")

    async def _send_request(
        self,
        ticket: Ticket,
        conversation: dict[str, Any],
        expert_name: str,
        expert_aad: str | None = None,
    ) -> None:
        activity_id = await self._post_card(conversation, cards.request_card(ticket, self.signer))
        await self._sent(ticket, conversation, expert_name, expert_aad, activity_id)

    async def _sent(
        self,
        ticket: Ticket,
        conversation: dict[str, Any],
        expert_name: str,
        expert_aad: str | None,
        activity_id: str | None,
        *,
        event: str = "sent",
    ) -> None:
        now = self.clock.now()
        changes: dict[str, Any] = {
            "status": Status.SENT,
            "expert_name": expert_name,
            "expert_aad": expert_aad or ticket.expert_aad,
            "expert_conversation": conversation,
            "expert_activity_id": activity_id,
            "sent_at": now,
        }
        notify = OutboxItem(
            "notify_asker",
            f"notify:{ticket.id}:{event}:{ticket.route}:{ticket.follow_ups}",
            {"event": event},
        )
        await self.store.update(ticket.id, changes, [notify], now=now, only_if=(Status.PENDING,))
        log.info(
            "escalation.delivered",
            extra=logs.fields(ticket=ticket.id, route=ticket.route, via=event),
        )

    async def _reroute(self, ticket: Ticket, reason: str) -> None:
        now = self.clock.now()
        await self.store.update(
            ticket.id,
            {"route": "dcct", "rerouted": reason},
            [
                OutboxItem("deliver_request", f"deliver:{ticket.id}:dcct"),
                OutboxItem("notify_asker", f"notify:{ticket.id}:rerouted",
                           {"event": "rerouted"}),
            ],
            now=now,
            only_if=(Status.PENDING,),
        )  # fmt: skip
        log.info("escalation.rerouted", extra=logs.fields(ticket=ticket.id, reason=reason))

    # --- the asker and the expert's card ---------------------------------------------

    async def _notify_asker(self, ticket: Ticket, event: str) -> None:
        if event == "answered":
            content = cards.answer_card(ticket, self.signer)
        else:
            content = notice_card(_notice(ticket, event), title=f"Request #{ticket.id}")
        await self._post_card(ticket.asker_conversation, content)

    async def _expert_card(self, ticket: Ticket, kind: str, payload: dict[str, Any]) -> None:
        if kind == "remind_expert":
            if ticket.status not in (Status.SENT, Status.TAKEN) or not ticket.expert_conversation:
                return
            reminder = cards.request_card(ticket, self.signer, reminder=True)
            await self._post_card(ticket.expert_conversation, reminder)
            return
        if not payload.get("activity_id"):
            return
        await self.connector().update(
            str(payload["service_url"]),
            str(payload["conversation_id"]),
            str(payload["activity_id"]),
            _card_activity(
                cards.request_card(ticket, self.signer, moved=bool(payload.get("moved")))
            ),
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


def _notice(ticket: Ticket, event: str) -> str:
    who = ticket.expert_name or ROUTE_NAMES.get(ticket.route, "")
    messages = {
        "sent": f"Delivered to {who}. I'll bring you their answer here.",
        "sent_by_mail": "Teams delivery to the DCCT is not available, so your request was "
        "e-mailed to the DCCT. They will contact you directly.",
        "rerouted": "Sent to the DCCT instead, because "
        + {
            "no_manager": "no line manager is on record for you.",
            "manager_unreachable": "I couldn't reach your line manager in Teams.",
            "deadline": "your line manager hasn't answered in time.",
        }.get(ticket.rerouted or "", "of a routing problem."),
        "reminded": f"No answer yet, so I have reminded {who}.",
        "taken": f"{ticket.taken_by or 'Someone'} from the DCCT is looking at your question.",
        "closed": f"{ticket.answered_by or who} closed your request without a written answer. "
        "If you still need advice, ask again or speak to them directly.",
        "failed": "I'm sorry: I couldn't deliver your request, and nothing was sent. Please "
        "ask your line manager or the DCCT directly (Social Media policy, clauses F1 and F2).",
    }
    return messages.get(event, f"Your request is {cards.STATUS_WORDS[ticket.status]}.")
