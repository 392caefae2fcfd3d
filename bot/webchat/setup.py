"""Mount `POST /api/directline/token` when a Direct Line secret is configured."""

from __future__ import annotations

from aiohttp import web

from bot.channels.directline.identity import WebChatIds
from bot.http import SharedSession
from bot.settings import Settings
from bot.webchat.token import (
    DirectLineTokenService,
    EntraTokenValidator,
    IssuedTokens,
    RateLimiter,
    token_endpoint,
    with_cors,
)


def entra_validator(settings: Settings) -> EntraTokenValidator | None:
    """The check of the Entra tokens staff's browsers send (the web part's, the insights
    page's); None when no audience and issuer are configured."""
    if not (settings.webchat.api_audiences and settings.webchat.token_issuers):
        return None
    return EntraTokenValidator(
        settings.webchat.jwks_url,
        list(settings.webchat.api_audiences),
        list(settings.webchat.token_issuers),
    )


def setup_webchat_tokens(
    app: web.Application, settings: Settings, http: SharedSession, ids: WebChatIds
) -> None:
    validator = entra_validator(settings)
    assert validator is not None, "settings.check() requires both with DIRECTLINE_SECRET"
    limiter = RateLimiter(settings.webchat.tokens_per_minute)
    issued = IssuedTokens()  # shared: a token from one endpoint is refreshed at the other

    def tokens() -> DirectLineTokenService:
        return DirectLineTokenService(
            http(), settings.webchat.directline_endpoint, settings.webchat.directline_secret
        )

    origins = frozenset(settings.webchat.allowed_origins)
    for path, refresh in (
        ("/api/directline/token", False),
        ("/api/directline/token/refresh", True),
    ):
        endpoint = token_endpoint(validator, tokens, limiter, issued, ids, refresh=refresh)
        handler = with_cors(endpoint, origins)
        app.router.add_post(path, handler)
        app.router.add_route("OPTIONS", path, handler)
