"""The terminal conversation's Bot Connector: where messages sent to it later arrive.

Escalation delivers its cards (to the local stand-in expert, and their answer back to
the asker) through the Bot Connector REST API at the conversation's `serviceUrl`, as in
Teams. For the terminal that URL points here, on the app's own 127.0.0.1 port, so the
whole flow runs unchanged and its cards land in the terminal. One conversation only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from aiohttp import web

PREFIX = "/terminal"


class Recipient(Protocol):
    def delivered(self, activity: Mapping[str, Any], replaces: str | None = None) -> str: ...


class TerminalConnector:
    def __init__(self, conversation_id: str, user: dict[str, str]) -> None:
        self.conversation_id = conversation_id
        self.user = user
        self.recipient: Recipient | None = None  # set once the channel exists

    def mount(self, app: web.Application) -> None:
        base = f"{PREFIX}/v3/conversations"
        app.router.add_post(base, self._create_conversation)
        app.router.add_post(base + "/{cid}/activities", self._send)
        app.router.add_post(base + "/{cid}/activities/{aid}", self._send)
        app.router.add_put(base + "/{cid}/activities/{aid}", self._update)
        app.router.add_get(base + "/{cid}/members", self._members)

    def service_url(self, origin: str) -> str:
        """With the trailing slash, as Teams gives it."""
        return f"{origin}{PREFIX}/"

    async def _activity(self, request: web.Request) -> tuple[Recipient, dict[str, Any]]:
        if request.match_info["cid"] != self.conversation_id:
            raise _error(404, "ConversationNotFound", "The terminal has one conversation")
        if self.recipient is None:
            raise _error(503, "ServiceUnavailable", "The terminal is not ready yet")
        try:
            activity = await request.json()
        except ValueError:
            raise _error(400, "BadArgument", "The body must be a JSON activity") from None
        if not isinstance(activity, dict):
            raise _error(400, "BadArgument", "The body must be a JSON activity")
        return self.recipient, activity

    async def _send(self, request: web.Request) -> web.Response:
        recipient, activity = await self._activity(request)
        if activity.get("type", "message") != "message":
            return web.json_response({"id": ""}, status=201)  # typing: nothing to show
        return web.json_response({"id": recipient.delivered(activity)}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        recipient, activity = await self._activity(request)
        ident = recipient.delivered(activity, replaces=request.match_info["aid"])
        return web.json_response({"id": ident})

    async def _members(self, request: web.Request) -> web.Response:
        if request.match_info["cid"] != self.conversation_id:
            raise _error(404, "ConversationNotFound", "The terminal has one conversation")
        return web.json_response([self.user])

    async def _create_conversation(self, request: web.Request) -> web.Response:
        # Only a real Teams tenant has other people to start a conversation with.
        raise _error(400, "BadArgument", "The terminal cannot start other conversations")


def _error(status: int, code: str, message: str) -> web.HTTPException:
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        404: web.HTTPNotFound,
        503: web.HTTPServiceUnavailable,
    }
    body = json.dumps({"error": {"code": code, "message": message}})
    return kinds[status](text=body, content_type="application/json")
