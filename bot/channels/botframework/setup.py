"""The botbuilder channel as the app mounts it (bot/channels/activity_protocol/setup.py)."""

from __future__ import annotations

from bot.channels.activity_protocol.setup import Endpoint, SdkChannel
from bot.channels.activity_protocol.tokens import BotTokens
from bot.channels.activity_protocol.turns import Turns
from bot.channels.botframework.auth import MsalBotTokens, keep_signing_keys_fresh
from bot.channels.botframework.endpoint import create_adapter, messages_endpoint
from bot.channels.botframework.handler import AdviserBot
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
    # botbuilder fetches signing keys with its own blocking `requests`, not the app's session.
    adapter = create_adapter(settings, tokens, turns)
    return Endpoint(
        messages_endpoint(settings, adapter, AdviserBot(turns), service_urls),
        background=lambda: keep_signing_keys_fresh(settings),
    )


CHANNEL = SdkChannel(BotSdk.BOT_FRAMEWORK, MsalBotTokens, endpoint)
