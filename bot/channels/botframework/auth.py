"""Bot Framework authentication on botbuilder: outbound tokens, credentials and
connector caching, and the channel's signing keys.

botbuilder would fetch a token per turn synchronously on the loop, build a new connector
per turn and refresh signing keys with blocking `requests` mid-request; each class here
works around one of those, and nothing outside this channel sees a botbuilder type.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationServiceClientCredentialFactory
from botbuilder.schema import Activity
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from bot import logs
from bot.channels.activity_protocol.tokens import BotTokens
from bot.settings import Settings

log = logging.getLogger("bot.channels.botframework")


class MsalBotTokens:
    """Real tokens through botbuilder's own credentials (msal), fetched off the event loop.

    botbuilder would build a new msal client per turn and call it synchronously on the
    loop; here one credentials object per (scope, authority) keeps msal's token cache,
    and the token is reused until it is half an hour old.
    """

    REUSE_SECONDS = 30 * 60

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._inner: ConfigurationServiceClientCredentialFactory | None = None
        self._credentials: dict[tuple[str, str, str], AppCredentials] = {}
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str:
        key = (app_id, scope, login_endpoint)
        cached = self._tokens.get(key)
        if cached and time.monotonic() - cached[1] < self.REUSE_SECONDS:
            return cached[0]
        credentials = self._credentials.get(key)
        if credentials is None:
            if self._inner is None:  # built on first use: in local mode it is never needed
                self._inner = ConfigurationServiceClientCredentialFactory(BotConfig(self._settings))
            credentials = await self._inner.create_credentials(app_id, scope, login_endpoint, True)
            self._credentials[key] = credentials
        token: str = await asyncio.to_thread(credentials.get_access_token)
        self._tokens[key] = (token, time.monotonic())
        return token


class _FixedTokenCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(self, app_id: str, scope: str, token: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


class TokenCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Hands botbuilder credentials whose token was fetched asynchronously beforehand."""

    def __init__(self, app_id: str, tokens: BotTokens) -> None:
        self.app_id = app_id
        self.tokens = tokens

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self.app_id) and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self.app_id:
            raise PermissionError("credentials asked for an unknown app id")
        token = await self.tokens.token(app_id, oauth_scope, login_endpoint)
        return _FixedTokenCredentials(app_id, oauth_scope, token)


class _SwappableTokenCredentials(AppCredentials):  # type: ignore[misc]
    """Credentials of a reused ConnectorClient: the token is refreshed before each turn."""

    def __init__(self, app_id: str, scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self.token = ""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.token


class CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """One ConnectorClient per (serviceUrl, audience), reused across turns.

    botbuilder builds a new client per turn, and msrest's configuration alone costs
    milliseconds of CPU (and a new HTTP session) each time; reuse keeps connections warm.
    """

    MAX_CLIENTS = 256
    USER_AGENT = "Microsoft-BotFramework/3.1 (BotBuilder Python/4.17; sp-social-media-adviser)"

    def __init__(self, app_id: str, scope: str, login_endpoint: str, tokens: BotTokens) -> None:
        self.app_id = app_id
        self.scope = scope
        self.login_endpoint = login_endpoint
        self.tokens = tokens
        self._clients: dict[tuple[str, str], tuple[ConnectorClient, AppCredentials]] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        scope = audience or self.scope
        key = (service_url, scope)
        entry = self._clients.pop(key, None)
        if entry is None:
            credentials: AppCredentials = (
                _SwappableTokenCredentials(self.app_id, scope)
                if self.app_id
                else MicrosoftAppCredentials.empty()
            )
            client = ConnectorClient(credentials, base_url=service_url)
            client.config.add_user_agent(self.USER_AGENT)
            entry = (client, credentials)
            if len(self._clients) >= self.MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))
        self._clients[key] = entry  # most recently used last
        client, credentials = entry
        if isinstance(credentials, _SwappableTokenCredentials):
            credentials.token = await self.tokens.token(self.app_id, scope, self.login_endpoint)
        return client


class CachingAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication, with connector and user-token clients reused."""

    def __init__(self, inner: BotFrameworkAuthentication, tokens: BotTokens) -> None:
        self.inner = inner
        self.tokens = tokens
        self._connectors: CachingConnectorFactory | None = None
        self._user_token_clients: dict[str, UserTokenClient] = {}

    def _reuse(self, factory: ConnectorFactory) -> ConnectorFactory:
        if self._connectors is None:
            # botbuilder 4.17 keeps the cloud's scope and login URL on its factory.
            self._connectors = CachingConnectorFactory(
                getattr(factory, "_app_id", "") or "",
                getattr(factory, "_to_channel_from_bot_oauth_scope", None)
                or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                getattr(factory, "_login_endpoint", None)
                or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT,
                self.tokens,
            )
        return self._connectors

    async def authenticate_request(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        result = await self.inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._reuse(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._reuse(self.inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = str(claims_identity.claims.get(AuthenticationConstants.AUDIENCE_CLAIM, ""))
        client = self._user_token_clients.get(key)
        if client is None:
            client = await self.inner.create_user_token_client(claims_identity)
            self._user_token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self.inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)


@dataclass
class BotConfig:
    """The attribute bag botbuilder's configuration classes read."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.bot.app_id
        self.APP_PASSWORD = settings.bot.app_password
        self.APP_TYPE = settings.bot.app_type.value
        self.APP_TENANTID = settings.bot.app_tenant_id
        # Overrides for sovereign clouds and for tests with a local OpenID issuer.
        if settings.bot.channel_openid_metadata_url:
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.bot.channel_openid_metadata_url
        if settings.bot.channel_token_issuer:
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.bot.channel_token_issuer


# --- signing keys --------------------------------------------------------------------

SIGNING_KEYS_REFRESH_SECONDS = 12 * 3600


def _refresh_signing_keys(url: str) -> None:
    # botbuilder caches keys per metadata URL and refreshes them with blocking `requests`
    # inside request handling once they are a day old; refreshing here, on a thread,
    # keeps that off the event loop.
    metadata = JwtTokenExtractor.get_open_id_metadata(url)
    asyncio.run(metadata._refresh())


async def keep_signing_keys_fresh(settings: Settings) -> None:
    """Fetch the channel's signing keys at start and twice a day, off the event loop."""
    url = (
        settings.bot.channel_openid_metadata_url
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    while True:
        try:
            await asyncio.to_thread(_refresh_signing_keys, url)
            log.info("auth.keys_refreshed", extra=logs.fields(url=url))
        except Exception as exc:  # botbuilder retries on its own when a request needs keys
            log.warning("auth.keys_refresh_failed", extra=logs.fields(url=url, error=str(exc)))
        await asyncio.sleep(SIGNING_KEYS_REFRESH_SECONDS)
