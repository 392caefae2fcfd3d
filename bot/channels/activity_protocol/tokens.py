"""The bot's outbound tokens: what it presents to the Bot Connector (replies, proactive
messages). Each SDK has a real `BotTokens` built on its own msal wrapper; tests use
bot/fakes/tokens.py."""

from __future__ import annotations

from typing import Protocol

from bot.http import TokenSource
from bot.settings import AppType, Settings

# Azure Bot Service (public cloud); the same constants in both SDKs.
BOT_CONNECTOR_SCOPE = "https://api.botframework.com"
LOGIN_URL_PREFIX = "https://login.microsoftonline.com/"
MULTI_TENANT_LOGIN_TENANT = "botframework.com"


class BotTokens(Protocol):
    """Access tokens the bot presents to the Bot Connector."""

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str: ...


def bot_token_source(settings: Settings, tokens: BotTokens) -> TokenSource:
    """Tokens for talking to the Bot Connector; none in local mode."""
    tenant = (
        settings.bot.app_tenant_id
        if settings.bot.app_type is not AppType.MULTI_TENANT and settings.bot.app_tenant_id
        else MULTI_TENANT_LOGIN_TENANT
    )
    login = LOGIN_URL_PREFIX + tenant

    async def token() -> str | None:
        if settings.local_mode:
            return None
        return await tokens.token(settings.bot.app_id, BOT_CONNECTOR_SCOPE, login)

    return token
