"""`POST /api/messages`: parse and authenticate the activity, then run the turn."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from botbuilder.core import InvokeResponse, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity

from bot import logs
from bot.channels.botframework.auth import (
    BotConfig,
    BotTokens,
    CachingAuthentication,
    TokenCredentialsFactory,
)
from bot.channels.botframework.handler import AdviserBot
from bot.conversation.dialogue import SORRY
from bot.settings import Settings

log = logging.getLogger("bot.channels.botframework")


def problem(status: int, title: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": title}}, status=status)


def create_adapter(settings: Settings, tokens: BotTokens) -> CloudAdapter:
    auth = ConfigurationBotFrameworkAuthentication(
        BotConfig(settings),
        credentials_factory=TokenCredentialsFactory(settings.bot.app_id, tokens),
    )
    adapter = CloudAdapter(CachingAuthentication(auth, tokens))

    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        activity = turn_context.activity
        log.error(
            "turn.failed",
            exc_info=error,
            extra=logs.fields(activity_type=activity.type, channel=activity.channel_id),
        )
        try:
            await turn_context.send_activity(MessageFactory.text(SORRY))
        except Exception as exc:  # the connector itself may be what failed
            log.error("turn.apology_failed", extra=logs.fields(error=str(exc)))

    adapter.on_turn_error = on_error
    return adapter


MessagesHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def messages_endpoint(
    settings: Settings, adapter: CloudAdapter, bot: AdviserBot
) -> MessagesHandler:
    auth = adapter.bot_framework_authentication

    async def messages(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        if not settings.local_mode and not header:
            # Checked before the adapter: with auth overrides set it answers 500, not 401.
            return problem(401, "missing Authorization header")
        if request.content_type != "application/json":
            return problem(415, "expected application/json")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return problem(400, "body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return problem(400, "body is not a Bot Framework activity")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return problem(400, "body is not a Bot Framework activity")
        if not activity.service_url or not activity.conversation or not activity.conversation.id:
            return problem(400, "activity needs serviceUrl and conversation.id")
        try:
            authenticated = await auth.authenticate_request(
                activity, None if settings.local_mode else header
            )
        except Exception as exc:  # PermissionError, expired or badly signed JWT, …
            log.warning("auth.rejected", extra=logs.fields(reason=type(exc).__name__))
            return problem(401, "not authorised")
        response: InvokeResponse | None = await adapter.process_activity(
            authenticated, activity, bot.on_turn
        )
        if response is not None:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=201)

    return messages
