"""Mount the bot on the app: `POST /api/messages`, its store and its dialogue."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot import logs
from bot.channels.botframework.auth import BotTokens, keep_signing_keys_fresh
from bot.channels.botframework.endpoint import create_adapter, messages_endpoint
from bot.channels.botframework.handler import AdviserBot
from bot.channels.botframework.outbound import ConnectorOutbound
from bot.clock import Clock
from bot.connector import BotConnectorClient
from bot.conversation.dialogue import Dialogue
from bot.conversation.escalation_port import Escalations
from bot.core import Adviser
from bot.http import SharedSession, TokenSource
from bot.settings import Settings
from bot.store.feedback import FeedbackStore

log = logging.getLogger("bot.channels.botframework")


class ConnectorHolder:
    """The Bot Connector client over the app's shared session (only while it runs)."""

    def __init__(self, token: TokenSource, http: SharedSession) -> None:
        self.token = token
        self.http = http

    def __call__(self) -> BotConnectorClient:
        return BotConnectorClient(self.http(), self.token)


DIALOGUE_KEY = web.AppKey("dialogue", Dialogue)
CONNECTOR_KEY = web.AppKey("connector", ConnectorHolder)


def setup_bot(
    app: web.Application,
    settings: Settings,
    adviser: Adviser,
    *,
    feedback: FeedbackStore,
    escalations: Escalations,
    clock: Clock,
    tokens: BotTokens,
    connector: ConnectorHolder,
) -> Dialogue:
    dialogue = Dialogue(
        adviser,
        feedback,
        escalations,
        clock,
        max_chars=settings.bot.max_message_chars,
        retention_days=settings.store.retention_days,
    )
    bot = AdviserBot(
        dialogue,
        typing_delay=settings.bot.typing_delay_ms / 1000,
        outbound=ConnectorOutbound(connector),
    )
    adapter = create_adapter(settings, tokens)
    app[DIALOGUE_KEY] = dialogue
    app[CONNECTOR_KEY] = connector
    app.router.add_post("/api/messages", messages_endpoint(settings, adapter, bot))

    async def announce(app: web.Application) -> AsyncIterator[None]:
        mode = "local (no authentication)" if settings.local_mode else "authenticated"
        keys = (
            None if settings.local_mode else asyncio.create_task(keep_signing_keys_fresh(settings))
        )
        log.info("bot.ready", extra=logs.fields(endpoint="/api/messages", mode=mode))
        yield
        if keys is not None:
            keys.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keys

    app.cleanup_ctx.append(announce)
    return dialogue
