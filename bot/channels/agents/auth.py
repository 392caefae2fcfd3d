"""Agents SDK authentication: outbound tokens through its MsalAuth, inbound channel
tokens checked by its JwtTokenValidator.

Four details of the SDK (1.9) are worked around here (endpoint.py has a fifth), each
said again where it is done; nothing outside this channel sees an SDK type:

- MsalAuth builds its msal client inside `get_access_token`, on the event loop, and
  msal's constructor fetches the authority's OpenID configuration with blocking
  `requests`: `MsalAgentTokens` builds it on a thread first.
- JwtTokenValidator picks the key set from the token's *unverified* issuer (a fixed
  login.botframework.com address, else login.microsoftonline.com), so it ignores
  `BOT_CHANNEL_OPENID_METADATA_URL`, and refetches it inside requests every five minutes
  (PyJWKClient's cache): `ChannelSigningKeys` serves the keys of the channel's OpenID
  metadata instead, fetched through the app's HTTP session at start and twice a day.
- Its issuer check is off unless asked for: `auth_configuration` asks for it.
- It only logs a token whose `serviceurl` differs from the activity's, and never checks
  that the signing key endorses the channel; botbuilder refuses both, and so does
  `ChannelAuthenticator`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any

import jwt
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core.authorization import (
    AgentAuthConfiguration,
    AuthTypes,
    ClaimsIdentity,
)
from microsoft_agents.hosting.core.authorization.jwt import JwtTokenValidator
from microsoft_agents.hosting.core.authorization.jwt.jwt_token_validator import _JwkClientManager

from bot import logs
from bot.http import RetryPolicy, ServiceClient, SharedSession
from bot.settings import AppType, Settings

log = logging.getLogger("bot.channels.agents")

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
BOT_FRAMEWORK_OPENID_METADATA_URL = (
    "https://login.botframework.com/v1/.well-known/openidconfiguration"
)


def auth_configuration(
    settings: Settings, login_endpoint: str | None = None
) -> AgentAuthConfiguration:
    """The SDK's view of the bot's identity. `login_endpoint` (for outbound tokens) names
    the tenant to sign in to: the bot's own, or botframework.com for a multi-tenant app."""
    tenant = login_endpoint.rstrip("/").rsplit("/", 1)[-1] if login_endpoint else None
    msi = settings.bot.app_type is AppType.USER_ASSIGNED_MSI
    return AgentAuthConfiguration(
        auth_type=AuthTypes.user_managed_identity if msi else AuthTypes.client_secret,
        client_id=settings.bot.app_id or None,
        tenant_id=tenant or settings.bot.app_tenant_id or None,
        client_secret=settings.bot.app_password or None,
        authority=login_endpoint,
        issuers=[settings.bot.channel_token_issuer or BOT_FRAMEWORK_ISSUER],
        validate_issuer=True,
        anonymous_allowed=settings.local_mode,
    )


class MsalAgentTokens:
    """Real outbound tokens through the SDK's MsalAuth (msal caches and renews them)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._providers: dict[str, MsalAuth] = {}

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str:
        if app_id != self._settings.bot.app_id:
            raise PermissionError("a token was asked for an unknown app id")
        provider = self._providers.get(login_endpoint)
        if provider is None:
            provider = MsalAuth(auth_configuration(self._settings, login_endpoint))
            # The SDK would build this msal client on the event loop on first use, and
            # msal's constructor does blocking HTTP (authority discovery).
            await asyncio.to_thread(provider._get_client)
            self._providers[login_endpoint] = provider
        return await provider.get_access_token(scope, [f"{scope}/.default"])


async def _no_token() -> str | None:
    return None


class _KeysClient(ServiceClient):
    SERVICE = "channel signing keys"


class ChannelSigningKeys(_JwkClientManager):
    """The channel's signing keys, for the SDK's JwtTokenValidator (it asks its key
    manager for the key of each token; this one answers from memory).

    Fetched with the app's HTTP session from the OpenID metadata botbuilder uses (or the
    override), at start and twice a day; a key id not seen before triggers one refetch,
    at most every five minutes (the channel rolls its keys).
    """

    REFRESH_SECONDS = 12 * 3600
    UNKNOWN_KEY_REFETCH_SECONDS = 300.0

    def __init__(self, metadata_url: str, http: SharedSession) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.metadata_url = metadata_url
        self.http = http
        self._keys: dict[str, tuple[jwt.PyJWK, list[str]]] = {}
        self._fetched = float("-inf")
        self._fetching = asyncio.Lock()  # one fetch at a time, however many requests wait

    async def refresh(self) -> None:
        async with self._fetching:
            await self._fetch()

    async def _fetch(self) -> None:
        client = _KeysClient(self.http(), "", _no_token, RetryPolicy(attempts=2))
        metadata = await client.request("GET", self.metadata_url)
        jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError(f"no jwks_uri in {self.metadata_url}")
        key_set = await client.request("GET", jwks_uri)
        keys: dict[str, tuple[jwt.PyJWK, list[str]]] = {}
        for jwk in key_set.get("keys", []) if isinstance(key_set, dict) else []:
            try:
                keys[str(jwk["kid"])] = (jwt.PyJWK(jwk), list(jwk.get("endorsements") or []))
            except (KeyError, TypeError, jwt.PyJWTError):
                continue  # a key type PyJWT cannot use signs nothing we accept
        self._keys = keys
        self._fetched = time.monotonic()
        log.info("auth.keys_refreshed", extra=logs.fields(url=self.metadata_url, keys=len(keys)))

    async def get_signing_key(self, jwks_uri: str, header: dict[str, Any]) -> jwt.PyJWK:
        # `jwks_uri` is the SDK's guess from the unverified issuer; the channel's keys
        # are the ones that count.
        kid = str(header.get("kid") or "")
        if kid not in self._keys:
            await self._refetch_for_unknown_key()
        if kid not in self._keys:
            raise jwt.InvalidKeyError("token signed with a key the channel does not publish")
        return self._keys[kid][0]

    def endorsements(self, kid: str) -> list[str]:
        entry = self._keys.get(kid)
        return entry[1] if entry else []

    async def _refetch_for_unknown_key(self) -> None:
        async with self._fetching:  # waits for a fetch under way, e.g. the one at start
            if time.monotonic() - self._fetched >= self.UNKNOWN_KEY_REFETCH_SECONDS:
                await self._fetch()

    async def keep_fresh(self) -> None:
        while True:
            try:
                await self.refresh()
            except Exception as exc:  # an unknown key id triggers another try
                log.warning(
                    "auth.keys_refresh_failed",
                    extra=logs.fields(url=self.metadata_url, error=str(exc)),
                )
            await asyncio.sleep(self.REFRESH_SECONDS)


class ChannelAuthenticator:
    """Who sent an activity: anonymous in local mode, else the channel, proven by its JWT."""

    def __init__(self, settings: Settings, keys: ChannelSigningKeys) -> None:
        self.settings = settings
        self.keys = keys
        self.validator = JwtTokenValidator(auth_configuration(settings))
        # The SDK's only seam for where keys come from (see the module docstring).
        self.validator._jwk_client_manager = keys

    async def authenticate(self, activity: Mapping[str, Any], header: str | None) -> ClaimsIdentity:
        """Raises (PermissionError, a PyJWT error, ValueError) unless the request is the
        channel's, for this bot, about this activity's service URL."""
        if self.settings.local_mode:
            return ClaimsIdentity()  # no claims: the SDK treats the turn as anonymous
        scheme, _, token = (header or "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise PermissionError("not a bearer token")
        identity = await self.validator.validate_token(token)
        if identity.get_claim_value("serviceurl") != activity.get("serviceUrl"):
            raise PermissionError("the token is for another service URL")
        endorsements = self.keys.endorsements(str(jwt.get_unverified_header(token).get("kid")))
        channel = activity.get("channelId")
        if channel and endorsements and channel not in endorsements:
            raise PermissionError("the signing key does not endorse this channel")
        return identity
