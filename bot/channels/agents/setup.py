"""The Agents SDK channel as the app mounts it (bot/channels/activity_protocol/setup.py)."""

from __future__ import annotations

from bot.channels.activity_protocol.setup import Endpoint, SdkChannel
from bot.channels.activity_protocol.tokens import BotTokens
from bot.channels.activity_protocol.turns import Turns
from bot.channels.agents.auth import (
    BOT_FRAMEWORK_OPENID_METADATA_URL,
    ChannelAuthenticator,
    ChannelSigningKeys,
    MsalAgentTokens,
)
from bot.channels.agents.endpoint import create_adapter, messages_endpoint
from bot.channels.agents.handler import AdviserAgent
from bot.channels.inbound import ServiceUrls
from bot.http import SharedSession
from bot.settings import BotSdk, Settings


def endpoint(
    settings: Settings,
    turns: Turns,
    tokens: BotTokens,
    http: SharedSession,
    service_urls: ServiceUrls,
) -> Endpoint:
    # Outbound tokens are only used by the shared Bot Connector client (`tokens`).
    keys = ChannelSigningKeys(
        settings.bot.channel_openid_metadata_url or BOT_FRAMEWORK_OPENID_METADATA_URL, http
    )
    messages = messages_endpoint(
        settings,
        create_adapter(turns),
        AdviserAgent(turns),
        ChannelAuthenticator(settings, keys),
        service_urls,
    )
    return Endpoint(messages, background=keys.keep_fresh)


CHANNEL = SdkChannel(BotSdk.AGENTS, MsalAgentTokens, endpoint)
