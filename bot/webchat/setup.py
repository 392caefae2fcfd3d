"""Mount `POST /api/directline/token` when a Direct Line secret is configured."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from bot.settings import Settings
from bot.webchat.token import (
    DirectLineTokenService,
    EntraTokenValidator,
    RateLimiter,
    token_endpoint,
)


def setup_webchat_tokens(app: web.Application, settings: Settings) -> None:
    validator = EntraTokenValidator(
        settings.webchat_jwks_url, settings.webchat_api_audience, settings.webchat_token_issuer
    )
    limiter = RateLimiter(settings.webchat_tokens_per_minute)
    holder: dict[str, DirectLineTokenService] = {}

    async def session(app: web.Application) -> AsyncIterator[None]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as http:
            holder["tokens"] = DirectLineTokenService(
                http, settings.directline_endpoint, settings.directline_secret
            )
            yield

    app.cleanup_ctx.append(session)
    app.router.add_post(
        "/api/directline/token", token_endpoint(validator, lambda: holder["tokens"], limiter)
    )
