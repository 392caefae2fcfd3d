"""Mount the bot on the app with the Bot SDK `BOT_SDK` names: `POST /api/messages`, its
dialogue, and the SDK's background work (keeping the channel's signing keys fresh).

Only the chosen SDK is imported (each takes a second or so to import).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from bot import logs
from bot.channels.activity_protocol.outbound import ConnectorHolder, ConnectorOutbound
from bot.channels.activity_protocol.requests import MessagesHandler
from bot.channels.activity_protocol.tokens import BotTokens
from bot.channels.activity_protocol.turns import Turns
from bot.channels.directline.identity import WebChatIds
from bot.channels.inbound import ServiceUrls
from bot.clock import Clock
from bot.conversation.dialogue import Dialogue
from bot.conversation.escalation_port import Escalations
from bot.conversation.insights_port import InsightsPort
from bot.conversation.rulings_port import Rulings
from bot.conversation.signing import CardSigner
from bot.core import Adviser
from bot.http import SharedSession
from bot.settings import BotSdk, Settings
from bot.store.answers import AnswerLog
from bot.store.feedback import FeedbackStore
from bot.store.welcomes import WelcomeStore

log = logging.getLogger("bot.channels")


@dataclass(frozen=True)
class Endpoint:
    """What an SDK channel adds to the app."""

    messages: MessagesHandler
    # Runs while the app runs, in authenticated mode (e.g. refreshing signing keys).
    background: Callable[[], Coroutine[Any, Any, None]] | None = None


@dataclass(frozen=True)
class SdkChannel:
    """One Bot SDK behind the boundary: its real outbound tokens and its endpoint."""

    sdk: BotSdk
    default_tokens: Callable[[Settings], BotTokens]
    endpoint: Callable[[Settings, Turns, BotTokens, SharedSession, ServiceUrls], Endpoint]


def sdk_channel(sdk: BotSdk) -> SdkChannel:
    if sdk is BotSdk.AGENTS:
        from bot.channels.agents import setup as agents

        return agents.CHANNEL
    from bot.channels.botframework import setup as botbuilder

    return botbuilder.CHANNEL


DIALOGUE_KEY = web.AppKey("dialogue", Dialogue)


def setup_bot(
    app: web.Application,
    settings: Settings,
    adviser: Adviser,
    *,
    channel: SdkChannel,
    feedback: FeedbackStore,
    answers: AnswerLog,
    welcomes: WelcomeStore,
    escalations: Escalations,
    clock: Clock,
    tokens: BotTokens,
    connector: ConnectorHolder,
    signer: CardSigner,
    service_urls: ServiceUrls,
    web_chat_ids: WebChatIds,
    rulings: Rulings | None = None,
    insights: InsightsPort | None = None,
) -> Dialogue:
    dialogue = Dialogue(
        adviser,
        feedback,
        escalations,
        clock,
        signer=signer,
        max_chars=settings.bot.max_message_chars,
        retention_days=settings.store.retention_days,
        rulings=rulings,
        answers=answers,
        answer_days=settings.store.insights_retention_days,
        insights=insights,
    )
    outbound = ConnectorOutbound(connector)
    turns = Turns(
        dialogue, settings.bot.typing_delay_ms / 1000, outbound, welcomes, clock, web_chat_ids
    )
    endpoint = channel.endpoint(settings, turns, tokens, connector.http, service_urls)
    app[DIALOGUE_KEY] = dialogue
    app.router.add_post("/api/messages", endpoint.messages)

    async def announce(app: web.Application) -> AsyncIterator[None]:
        mode = "local (no authentication)" if settings.local_mode else "authenticated"
        background = (
            asyncio.create_task(endpoint.background())
            if endpoint.background is not None and not settings.local_mode
            else None
        )
        log.info(
            "bot.ready",
            extra=logs.fields(endpoint="/api/messages", mode=mode, sdk=channel.sdk.value),
        )
        yield
        if background is not None:
            background.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await background

    app.cleanup_ctx.append(announce)
    return dialogue
