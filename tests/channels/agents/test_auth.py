"""The Agents SDK channel's auth pieces on their own: the identity the SDK is given, and
the signing keys it is served (against the local channel issuer)."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp
import jwt
import pytest
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core.authorization import AuthTypes

from bot.channels.activity_protocol.tokens import LOGIN_URL_PREFIX, MULTI_TENANT_LOGIN_TENANT
from bot.channels.agents.auth import ChannelSigningKeys, auth_configuration
from bot.fakes.channel_issuer import ChannelIssuer
from bot.settings import AppType, Settings

TENANT = "9f2a1c55-0000-4000-8000-5c077a1d0001"
APP_ID = "00000000-aaaa-4bbb-8ccc-000000000042"
IDENTITIES = {
    AppType.SINGLE_TENANT: {"MicrosoftAppPassword": "secret", "MicrosoftAppTenantId": TENANT},
    AppType.MULTI_TENANT: {"MicrosoftAppPassword": "secret"},
    AppType.USER_ASSIGNED_MSI: {"MicrosoftAppTenantId": TENANT},
}


def bot_settings(app_type: AppType) -> Settings:
    return Settings.from_env(
        {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppType": app_type.value,
            "CARD_SIGNING_KEY": "s" * 32,
            **IDENTITIES[app_type],
        }
    )


@pytest.mark.parametrize(
    ("app_type", "tenant"),
    [
        (AppType.SINGLE_TENANT, TENANT),
        (AppType.MULTI_TENANT, MULTI_TENANT_LOGIN_TENANT),
        (AppType.USER_ASSIGNED_MSI, TENANT),
    ],
)
def test_the_sdk_signs_in_where_the_bot_connector_token_comes_from(
    app_type: AppType, tenant: str
) -> None:
    login = LOGIN_URL_PREFIX + tenant
    config = auth_configuration(bot_settings(app_type), login)
    assert MsalAuth._resolve_authority(config) == login  # the SDK's own reading of it
    msi = app_type is AppType.USER_ASSIGNED_MSI
    assert config.AUTH_TYPE is (AuthTypes.user_managed_identity if msi else AuthTypes.client_secret)
    assert config.CLIENT_ID == APP_ID


def test_the_issuer_is_checked_and_only_in_local_mode_is_anyone_let_in() -> None:
    config = auth_configuration(bot_settings(AppType.SINGLE_TENANT))
    assert (config.VALIDATE_ISSUER, config.ISSUERS, config.ANONYMOUS_ALLOWED) == (
        True,
        ["https://api.botframework.com"],
        False,
    )
    assert auth_configuration(Settings()).ANONYMOUS_ALLOWED is True


@pytest.fixture
def issuer() -> Iterator[ChannelIssuer]:
    issuer = ChannelIssuer().start()
    yield issuer
    issuer.stop()


async def test_keys_come_from_the_metadata_and_an_unknown_key_refetches_once(
    issuer: ChannelIssuer,
) -> None:
    async with aiohttp.ClientSession() as session:
        keys = ChannelSigningKeys(issuer.metadata_url, lambda: session)  # type: ignore[arg-type]
        key = await keys.get_signing_key("the SDK's guess", {"kid": issuer.kid})
        assert (key.key_id, issuer.requests) == (issuer.kid, 2)  # metadata, then keys
        assert keys.endorsements(issuer.kid) == ["msteams"]
        for _ in range(3):  # a burst of forged key ids: no refetch within five minutes
            with pytest.raises(jwt.InvalidKeyError):
                await keys.get_signing_key("", {"kid": "forged"})
        assert issuer.requests == 2


async def test_a_rolled_key_is_found_by_refetching(issuer: ChannelIssuer) -> None:
    async with aiohttp.ClientSession() as session:
        keys = ChannelSigningKeys(issuer.metadata_url, lambda: session)  # type: ignore[arg-type]
        await keys.refresh()
        keys.UNKNOWN_KEY_REFETCH_SECONDS = 0.0  # as if five minutes had passed
        issuer.jwk = {**issuer.jwk, "kid": "rolled-key-2"}
        key = await keys.get_signing_key("", {"kid": "rolled-key-2"})
        assert key.key_id == "rolled-key-2"
        assert issuer.requests == 4
