"""`python -m bot serve`: read settings once, configure logging, run the app."""

from __future__ import annotations

import logging
import sys

from aiohttp import web

from bot import logs
from bot.app import create_app
from bot.core import KnowledgeError
from bot.settings import Settings, SettingsError

log = logging.getLogger("bot.server")


def run(host: str | None = None, port: int | None = None) -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - before logging exists
        return 2
    logs.configure(settings.bot.log_level, settings.bot.log_format, sys.stdout)
    if settings.local_mode:
        log.warning(
            "LOCAL MODE: MicrosoftAppId is not set, so inbound requests are NOT authenticated. "
            "Use only on this machine (Bot Framework Emulator, tests, local web chat)."
        )
    log.info(
        "server.starting",
        extra=logs.fields(host=host or settings.bot.host, port=port or settings.bot.port),
    )
    try:
        web.run_app(
            create_app(settings),
            host=host or settings.bot.host,
            port=port or settings.bot.port,
            print=None,
            access_log=None,
        )
    except KnowledgeError as exc:
        log.error("knowledge.invalid", extra=logs.fields(problems=exc.problems))
        return 2
    return 0
