"""Mount `POST /api/directline/token` when a Direct Line secret is configured."""

from __future__ import annotations

from aiohttp import web

from bot.http import SharedSession
from bot.settings import Settings
from bot.webchat.token import (
    DirectLineTokenService,
    EntraTokenValidator,
    RateLimiter,
    token_endpoint,
    with_cors,
)


def _listed(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


def setup_webchat_tokens(app: web.Application, settings: Settings, http: SharedSession) -> None:
    validator = EntraTokenValidator(
        settings.webchat_jwks_url,
        _listed(settings.webchat_api_audience),
        _listed(settings.webchat_token_issuer),
    )
    limiter = RateLimiter(settings.webchat_tokens_per_minute)

    def tokens() -> DirectLineTokenService:
        return DirectLineTokenService(
            http(), settings.directline_endpoint, settings.directline_secret
        )

    origins = frozenset(
        o.strip().rstrip("/") for o in settings.webchat_allowed_origins.split(",") if o.strip()
    )
    for path, refresh in (
        ("/api/directline/token", False),
        ("/api/directline/token/refresh", True),
    ):
        handler = with_cors(token_endpoint(validator, tokens, limiter, refresh=refresh), origins)
        app.router.add_post(path, handler)
        app.router.add_route("OPTIONS", path, handler)
