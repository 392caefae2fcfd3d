"""`POST /api/messages` before an SDK sees it: the checks that give a clear 4xx.

Both SDKs answer malformed requests badly (a 500, or a 400 for everything); these
checks run first so a caller learns what was wrong, and nothing runs.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from bot.settings import Settings

MessagesHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def problem(status: int, title: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": title}}, status=status)


async def read_activity(request: web.Request, settings: Settings) -> dict[str, Any] | web.Response:
    """The activity's JSON, or the error response to send instead."""
    if not settings.local_mode and not request.headers.get("Authorization"):
        return problem(401, "missing Authorization header")
    if request.content_type != "application/json":
        return problem(415, "expected application/json")
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return problem(400, "body is not valid JSON")
    if not isinstance(body, dict) or not isinstance(body.get("type"), str):
        return problem(400, "body is not a Bot Framework activity")
    conversation = body.get("conversation")
    if (
        not body.get("serviceUrl")
        or not isinstance(conversation, dict)
        or not conversation.get("id")
    ):
        return problem(400, "activity needs serviceUrl and conversation.id")
    return body


def turn_response(invoke: tuple[int, Any] | None) -> web.Response:
    """An invoke's (status, body) as the HTTP answer; any other activity gets 201."""
    if invoke is None:
        return web.Response(status=201)
    status, body = invoke
    return web.json_response(body, status=status)
