"""`POST /api/messages` on botbuilder: authenticate the activity, then run the turn."""

from __future__ import annotations

import logging

from aiohttp import web
from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity

from bot import logs
from bot.channels.activity_protocol.requests import (
    MessagesHandler,
    problem,
    read_activity,
    turn_response,
)
from bot.channels.activity_protocol.tokens import BotTokens
from bot.channels.activity_protocol.turns import Turns
from bot.channels.botframework.auth import BotConfig, CachingAuthentication, TokenCredentialsFactory
from bot.channels.botframework.handler import AdviserBot, activity_json
from bot.channels.inbound import ServiceUrls
from bot.settings import Settings

log = logging.getLogger("bot.channels.botframework")


def create_adapter(settings: Settings, tokens: BotTokens, turns: Turns) -> CloudAdapter:
    auth = ConfigurationBotFrameworkAuthentication(
        BotConfig(settings),
        credentials_factory=TokenCredentialsFactory(settings.bot.app_id, tokens),
    )
    adapter = CloudAdapter(CachingAuthentication(auth, tokens))

    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        await turns.failed(activity_json(turn_context.activity), error)

    adapter.on_turn_error = on_error
    return adapter


def messages_endpoint(
    settings: Settings, adapter: CloudAdapter, bot: AdviserBot, service_urls: ServiceUrls
) -> MessagesHandler:
    auth = adapter.bot_framework_authentication

    async def messages(request: web.Request) -> web.StreamResponse:
        body = await read_activity(request, settings, service_urls)
        if isinstance(body, web.Response):
            return body
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return problem(400, "body is not a Bot Framework activity")
        try:
            # With the auth overrides set, botbuilder answers a missing header with a 500,
            # so read_activity has already refused that.
            authenticated = await auth.authenticate_request(
                activity, None if settings.local_mode else request.headers["Authorization"]
            )
        except Exception as exc:  # PermissionError, expired or badly signed JWT, …
            log.warning("auth.rejected", extra=logs.fields(reason=type(exc).__name__))
            return problem(401, "not authorised")
        response: InvokeResponse | None = await adapter.process_activity(
            authenticated, activity, bot.on_turn
        )
        return turn_response(None if response is None else (response.status, response.body))

    return messages
