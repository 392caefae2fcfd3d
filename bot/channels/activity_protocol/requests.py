"""`POST /api/messages` before an SDK sees it: the checks that give a clear 4xx.

Both SDKs answer malformed requests badly (a 500, or a 400 for everything); these
checks run first so a caller learns what was wrong, and nothing runs. The body is read
once, through the one inbound reader (bot/channels/inbound.py), before anything else,
authentication included.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.channels.inbound import BadInput, ServiceUrls, check_activity, read_json
from bot.settings import Settings

MessagesHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": title}}, status=status)


async def read_activity(
    request: web.Request, settings: Settings, service_urls: ServiceUrls
) -> dict[str, Any] | web.Response:
    """The activity's JSON, or the error response to send instead."""
    try:
        body = check_activity(await read_json(request))
        service_urls.check(body["serviceUrl"], request)
    except BadInput as exc:
        return problem(exc.status, exc.message)
    if not settings.local_mode and not request.headers.get("Authorization"):
        return problem(401, "missing Authorization header")
    return body


def turn_response(invoke: tuple[int, Any] | None) -> web.Response:
    """An invoke's (status, body) as the HTTP answer; any other activity gets 201."""
    if invoke is None:
        return web.Response(status=201)
    status, body = invoke
    if hasattr(body, "model_dump"):  # an SDK model from the SDK's own handlers
        body = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    elif hasattr(body, "serialize"):
        body = body.serialize()
    return web.json_response(body, status=status)
