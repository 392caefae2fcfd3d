"""`POST /api/messages` on the Agents SDK: authenticate the activity, then run the turn.

The SDK's `start_agent_process` / `CloudAdapter.process` are not used: they answer every
malformed request with one 400 and trust the JWT middleware's looser checks; the turn
itself runs in the SDK's adapter as usual (`process_activity`).
"""

from __future__ import annotations

import logging
from typing import Any, cast

import pydantic
from aiohttp import web
from microsoft_agents.activity import Activity
from microsoft_agents.hosting.aiohttp import CloudAdapter
from microsoft_agents.hosting.core import ChannelServiceClientFactoryBase, TurnContext
from microsoft_agents.hosting.core.authorization import ClaimsIdentity
from microsoft_agents.hosting.core.connector import ConnectorClientBase, UserTokenClientBase

from bot import logs
from bot.channels.activity_protocol.requests import (
    MessagesHandler,
    problem,
    read_activity,
    turn_response,
)
from bot.channels.activity_protocol.turns import Turns
from bot.channels.agents.auth import ChannelAuthenticator
from bot.channels.agents.handler import AdviserAgent, activity_json
from bot.channels.inbound import ServiceUrls
from bot.settings import Settings

log = logging.getLogger("bot.channels.agents")


class _NotUsed:
    """Stands where the SDK keeps its own Bot Connector and user-token clients."""

    def __init__(self, what: str) -> None:
        self.what = what

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(
            f"the Agents SDK's {self.what} client is not used: replies go through "
            "bot/connector.py and the bot has no user sign-in"
        )

    async def close(self) -> None:
        return None


class OwnConnectorOnly(ChannelServiceClientFactoryBase):
    """The SDK's default factory fetches two tokens and opens two HTTP sessions every turn
    for clients this bot never calls (replies and proactive sends use bot/connector.py,
    which retries Teams' throttling); this one hands out stand-ins that fail loudly."""

    async def create_connector_client(
        self,
        context: TurnContext | None,
        claims_identity: ClaimsIdentity,
        service_url: str,
        audience: str,
        scopes: list[str] | None = None,
        use_anonymous: bool = False,
    ) -> ConnectorClientBase:
        return cast(ConnectorClientBase, _NotUsed("Bot Connector"))

    async def create_user_token_client(
        self,
        context: TurnContext,
        claims_identity: ClaimsIdentity,
        use_anonymous: bool = False,
    ) -> UserTokenClientBase:
        return cast(UserTokenClientBase, _NotUsed("user token"))


def create_adapter(turns: Turns) -> CloudAdapter:
    adapter = CloudAdapter(channel_service_client_factory=OwnConnectorOnly())

    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        await turns.failed(activity_json(turn_context.activity), error)

    adapter.on_turn_error = on_error
    return adapter


def messages_endpoint(
    settings: Settings,
    adapter: CloudAdapter,
    agent: AdviserAgent,
    authenticator: ChannelAuthenticator,
    service_urls: ServiceUrls,
) -> MessagesHandler:
    async def messages(request: web.Request) -> web.StreamResponse:
        body = await read_activity(request, settings, service_urls)
        if isinstance(body, web.Response):
            return body
        try:
            activity = Activity.model_validate(body)
        except pydantic.ValidationError:
            return problem(400, "body is not a Bot Framework activity")
        try:
            identity = await authenticator.authenticate(body, request.headers.get("Authorization"))
        except Exception as exc:  # PermissionError, expired or badly signed JWT, …
            log.warning("auth.rejected", extra=logs.fields(reason=type(exc).__name__))
            return problem(401, "not authorised")
        response = await adapter.process_activity(identity, activity, agent.on_turn)
        return turn_response(None if response is None else (response.status, response.body))

    return messages
