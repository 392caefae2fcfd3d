"""The aiohttp application: `create_app(settings)` wires the core to the edges."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from bot.core import Adviser
from bot.settings import Settings

log = logging.getLogger("bot.app")
ADVISER_KEY = web.AppKey("adviser", Adviser)
SETTINGS_KEY = web.AppKey("settings", Settings)


async def healthz(request: web.Request) -> web.Response:
    adviser = request.app[ADVISER_KEY]
    return web.json_response(
        {
            "status": "ok",
            "knowledge_entries": len(adviser.knowledge.entries),
            "policy_version": adviser.knowledge.policy_version,
        }
    )


async def create_app(settings: Settings, adviser: Adviser | None = None) -> web.Application:
    """Build the application. Knowledge loads in a thread: it reads files."""
    if adviser is None:
        adviser = await asyncio.to_thread(Adviser.from_directory, settings.knowledge_dir)
    app = web.Application(client_max_size=256 * 1024)
    app[SETTINGS_KEY] = settings
    app[ADVISER_KEY] = adviser
    app.router.add_get("/healthz", healthz)
    return app
