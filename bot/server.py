"""`python -m bot serve`: read settings once, configure logging, run the app."""

from __future__ import annotations

import logging
import sys
from typing import Any

from aiohttp import web

from bot import logs
from bot.app import create_app
from bot.core import KnowledgeError
from bot.settings import Settings, SettingsError

log = logging.getLogger("bot.server")
LABELS = {
    "chat": "web chat",
    "messages": "Bot Framework endpoint",
    "health": "health check",
}
SHUTDOWN_SECONDS = 10.0


def run(host: str | None = None, port: int | None = None, **services: Any) -> int:
    """Serve until SIGINT/SIGTERM. `services` go to `create_app` (stand-ins for a fuzz
    run or a trial; the defaults are the real ones)."""
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
    host, port = host or settings.bot.host, port or settings.bot.port
    log.info("server.starting", extra=logs.fields(host=host, port=port))

    def listening(_aiohttp_banner: str) -> None:
        # Called once the socket is bound: now the addresses work.
        urls = addresses(host, port, settings.local_mode)
        log.info("server.listening", extra=logs.fields(**urls))
        width = max(len(LABELS[name]) for name in urls)
        lines = [f"  {LABELS[name]:{width}}  {url}" for name, url in urls.items()]
        # For the person who started it, on stderr: stdout stays one JSON object a line.
        sys.stderr.write("\n".join(["The adviser is running:", *lines, "Ctrl-C stops it.", ""]))
        sys.stderr.flush()

    try:
        web.run_app(
            create_app(settings, **services),
            host=host,
            port=port,
            print=listening,
            access_log=None,
            # SIGTERM waits this long for requests in flight, then stops: well inside the
            # 30 s a container runtime gives before it kills.
            shutdown_timeout=SHUTDOWN_SECONDS,
        )
    except KnowledgeError as exc:
        log.error("knowledge.invalid", extra=logs.fields(problems=exc.problems))
        return 2
    return 0


def addresses(host: str, port: int, local_mode: bool) -> dict[str, str]:
    """What a person can open, by name; a wildcard host is reached as localhost."""
    shown = "localhost" if host in ("", "0.0.0.0", "::") else host  # noqa: S104
    base = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
    urls = {"chat": f"{base}/chat"} if local_mode else {}  # mounted in local mode only
    return urls | {"messages": f"{base}/api/messages", "health": f"{base}/healthz"}
