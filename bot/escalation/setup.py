"""Wire escalation into the app: store, signer, Graph, service, worker, retention."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiohttp import web

from bot import logs
from bot.clock import Clock
from bot.connector import BotConnectorClient
from bot.conversation.signing import CardSigner
from bot.conversation.types import Person
from bot.escalation.activity_feed import ActivityFeed, FeedConfig
from bot.escalation.delivery import DcctRoute, Deliveries, DeliveryConfig
from bot.escalation.lifecycle import LateRules
from bot.escalation.service import EscalationService
from bot.escalation.store import TicketStore
from bot.escalation.tickets import teams_address
from bot.escalation.worker import OutboxWorker
from bot.graph.client import Directory, GraphClient
from bot.graph.tokens import MsalGraphTokens
from bot.http import RetryPolicy, SharedSession
from bot.settings import AppType, Settings
from bot.store.database import Database
from bot.store.retention import Purge

log = logging.getLogger("bot.escalation")


class TeamMembers:
    """Members of the DCCT team, from the Bot Connector, cached for a few minutes."""

    def __init__(
        self,
        connector: Callable[[], BotConnectorClient],
        service_url: str,
        team_id: str,
        ttl: float = 300.0,
        *,
        teams_service_url: str = "",
    ) -> None:
        self.connector = connector
        self.service_url = service_url
        self.team_id = team_id
        self.teams_service_url = teams_service_url
        self.ttl = ttl
        self._members: set[str] = set()
        self._fetched = float("-inf")

    async def is_member(self, person: Person) -> bool:
        # Without a configured URL, the presser's own when in Teams (same tenant, same
        # region), else the Teams service URL.
        service_url = (
            self.service_url or teams_address(person.conversation, self.teams_service_url, "")[0]
        )
        if not self.team_id or not service_url:
            return False
        if time.monotonic() - self._fetched > self.ttl:
            self._members = await self.fetch(service_url)
            self._fetched = time.monotonic()
        return bool(person.aad_object_id) and person.aad_object_id in self._members

    async def fetch(self, service_url: str) -> set[str]:
        """The team's members' Entra ids, asked of Teams now (not the cache)."""
        if not self.team_id or not service_url:
            return set()
        members = await self.connector().members(service_url, self.team_id)
        return {str(m.get("aadObjectId") or "") for m in members} - {""}


@dataclass
class EscalationParts:
    service: EscalationService
    worker: OutboxWorker
    store: TicketStore
    # The Graph session and the worker; append to cleanup_ctx after the Bot Connector
    # session exists, so the worker starts after it and stops before it.
    lifecycle: Callable[[web.Application], AsyncIterator[None]]
    signer: CardSigner  # request cards' buttons, also those the rulings desk acts on
    dcct: TeamMembers  # who may answer for the DCCT (and decide on rulings)


def graph_tokens(settings: Settings) -> MsalGraphTokens | None:
    client_id, secret, tenant = settings.graph_credentials
    if not client_id:
        return None
    return MsalGraphTokens(
        client_id=client_id,
        tenant_id=tenant,
        authority_host=settings.graph.authority_host,
        secret=secret,
        managed_identity=settings.bot.app_type is AppType.USER_ASSIGNED_MSI and not secret,
        verify=settings.graph.ca_bundle or True,
    )


def setup_escalation(
    settings: Settings,
    *,
    signer: CardSigner,
    database: Database,
    connector: Callable[[], BotConnectorClient],
    http: SharedSession,
    clock: Clock,
    purges: dict[str, Purge],
    directory: Directory | None = None,
    policy_version: str = "",
) -> EscalationParts:
    """Build the parts now; the worker starts with `lifecycle`, Graph calls use `http`.

    `directory` replaces Graph (tests); otherwise Graph is used when credentials exist,
    and with none (local mode) the asker's own chat stands in for the expert.
    `policy_version` is the adviser's: 'my requests' flags answers given under an older one.
    """
    escalation = settings.escalation
    store = TicketStore(database)
    tokens = None if directory is not None else graph_tokens(settings)

    def current_directory() -> Directory | None:
        if directory is not None or tokens is None:
            return directory
        return GraphClient(http(), settings.graph.base_url, tokens.token)

    dcct = DcctRoute(
        service_url=escalation.dcct_service_url,
        team_id=escalation.dcct_team_id,
        channel_id=escalation.dcct_channel_id,
        mailbox=escalation.dcct_mailbox,
        sender_mailbox=escalation.sender_mailbox,
    )

    def one_attempt() -> BotConnectorClient:
        # The outbox retries with its backoff, persisted, so a send tries once here.
        return connector().with_retry(RetryPolicy(attempts=1))

    members = TeamMembers(
        connector,
        escalation.dcct_service_url,
        escalation.dcct_team_id,
        teams_service_url=escalation.teams_service_url,
    )
    feed = ActivityFeed(
        current_directory,
        members.fetch,
        FeedConfig(
            escalation.activity_feed,
            escalation.dcct_channel_id,
            escalation.dcct_service_url,
            teams_service_url=escalation.teams_service_url,
        ),
    )
    deliveries = Deliveries(
        store,
        signer,
        clock,
        one_attempt,
        current_directory,
        DeliveryConfig(
            dcct,
            escalation.teams_app_catalog_id,
            teams_service_url=escalation.teams_service_url,
            app_id=settings.bot.app_id,
            tenant_id=settings.graph_credentials[2],
        ),
        feed,
    )
    worker = OutboxWorker(
        store,
        deliveries,
        clock,
        LateRules(
            escalation.reminder_hours,
            escalation.deadline_hours,
            can_reroute=dcct.has_channel or dcct.has_mailbox,
            mailed_close_after=timedelta(days=escalation.mailed_close_days),
        ),
        lease_seconds=settings.store.outbox_lease_seconds,
        poll_seconds=settings.store.outbox_poll_seconds,
    )
    service = EscalationService(
        store,
        signer,
        clock,
        members,
        worker.wake,
        max_chars=settings.bot.max_message_chars,
        policy_version=policy_version,
    )
    purges["tickets"] = store.purge_closed_before

    async def running(app: web.Application) -> AsyncIterator[None]:
        mode = "graph" if tokens else ("custom" if directory else "local stand-in")
        log.info("escalation.ready", extra=logs.fields(directory=mode))
        task = asyncio.create_task(worker.run())
        yield
        await worker.stop()
        try:
            await asyncio.wait_for(task, timeout=10)
        except TimeoutError:
            # Its row stays leased; another replica (or the next start) takes it over
            # when the lease runs out.
            log.warning("escalation.worker_stop_timeout")

    return EscalationParts(service, worker, store, running, signer, members)
