"""Mount the bot on the app: `POST /api/messages`, its store and its dialogue."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web

from bot import logs
from bot.clock import Clock
from bot.core import Adviser
from bot.settings import Settings
from bot.store.feedback import FeedbackStore
from bot.teams.adapter import AdviserBot, BotTokens, create_adapter, messages_endpoint
from bot.teams.dialogue import Dialogue
from bot.teams.escalation_port import Escalations

log = logging.getLogger("bot.teams")

DIALOGUE_KEY = web.AppKey("dialogue", Dialogue)


def setup_bot(
    app: web.Application,
    settings: Settings,
    adviser: Adviser,
    *,
    feedback: FeedbackStore,
    escalations: Escalations,
    clock: Clock,
    tokens: BotTokens,
) -> Dialogue:
    dialogue = Dialogue(
        adviser,
        feedback,
        escalations,
        clock,
        max_chars=settings.max_message_chars,
        retention_days=settings.retention_days,
    )
    bot = AdviserBot(dialogue, typing_delay=settings.typing_delay_ms / 1000)
    adapter = create_adapter(settings, tokens)
    app[DIALOGUE_KEY] = dialogue
    app.router.add_post("/api/messages", messages_endpoint(settings, adapter, bot))

    async def announce(app: web.Application) -> AsyncIterator[None]:
        mode = "local (no authentication)" if settings.local_mode else "authenticated"
        log.info("bot.ready", extra=logs.fields(endpoint="/api/messages", mode=mode))
        yield

    app.cleanup_ctx.append(announce)
    return dialogue
