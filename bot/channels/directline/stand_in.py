"""LOCAL STAND-IN for the Direct Line 3.0 service, for development and tests only.

No maintained offline Direct Line server exists, so this small one lets the real
Web Chat client talk to the bot on one machine: it is mounted only in local mode (no
`MicrosoftAppId`), never beside a real channel. Web Chat polls it (no websocket):

    POST /v3/directline/conversations                  start (Bearer: a token from /chat/token)
    POST /v3/directline/conversations/{id}/activities  the user says something
    GET  /v3/directline/conversations/{id}/activities?watermark=N   what happened since N
    POST /v3/directline/tokens/refresh                 extend the token

User activities are forwarded to the bot's own `/api/messages` as the Direct Line
channel would, with a `serviceUrl` pointing back here; the bot's replies arrive on the
Bot Connector routes below (`/directline-local/v3/conversations/...`). Direct Line has
no activity updates, so an update arrives as a new activity naming the one it replaces
(`channelData.replacesActivity`), which the page shows in the old one's place.

Both sides are guarded as the real services are, even on one machine: Web Chat's side
needs the conversation's token, the Bot Connector side the bot's own token (a secret
made at start and handed only to the bot's Bot Connector client), so no other local
process can post into a conversation as the adviser. Bodies go through the one inbound
reader: an empty, non-JSON or non-UTF-8 body is a 4xx. Addresses come from the socket
the request arrived on, never from its Host header, which the caller chooses.
"""

from __future__ import annotations

import asyncio
import hmac
import itertools
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import web

from bot import logs
from bot.channels.inbound import BadInput, check_activity, read_json
from bot.http import SharedSession

log = logging.getLogger("bot.channels.directline")

BOT = {"id": "local-adviser-bot", "name": "Policy adviser", "role": "bot"}
CONNECTOR_PREFIX = "/directline-local"
MAX_ACTIVITIES = 500  # per conversation: a local session, not an archive
TOKEN_SECONDS = 1800
# Forwarding runs the bot's whole turn behind /api/messages: allow more than a call.
FORWARD_TIMEOUT = aiohttp.ClientTimeout(total=60)


@dataclass
class Conversation:
    id: str
    token: str
    user: dict[str, str]
    activities: list[dict[str, Any]] = field(default_factory=list)
    forwarding: asyncio.Lock = field(default_factory=asyncio.Lock)


class LocalDirectLine:
    def __init__(self, http: SharedSession, connector_bearers: dict[str, str]) -> None:
        self.tokens: dict[str, dict[str, str]] = {}  # token -> user, before a conversation
        self.conversations: dict[str, Conversation] = {}
        self._ids = itertools.count(1)
        self._http = http
        # What the bot presents on the Bot Connector routes, as Azure's channel expects
        # the bot's own token: left in `connector_bearers` for each serviceUrl handed out.
        self.bot_token = secrets.token_urlsafe(32)
        self._connector_bearers = connector_bearers

    def issue_token(self, user_id: str, name: str) -> dict[str, Any]:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = {"id": user_id, "name": name, "role": "user"}
        return {"token": token, "expires_in": TOKEN_SECONDS, "userId": user_id}

    def mount(self, app: web.Application) -> None:
        base = "/v3/directline"
        app.router.add_post(f"{base}/conversations", self._start)
        app.router.add_get(f"{base}/conversations/{{cid}}", self._reconnect)
        app.router.add_post(f"{base}/conversations/{{cid}}/activities", self._from_user)
        app.router.add_get(f"{base}/conversations/{{cid}}/activities", self._since)
        app.router.add_post(f"{base}/tokens/refresh", self._refresh)
        connector = f"{CONNECTOR_PREFIX}/v3/conversations/{{cid}}"
        app.router.add_post(f"{connector}/activities", self._from_bot)
        app.router.add_post(f"{connector}/activities/{{aid}}", self._from_bot)
        app.router.add_put(f"{connector}/activities/{{aid}}", self._from_bot)
        app.router.add_get(f"{connector}/members", self._members)

    # --- the Web Chat side -------------------------------------------------------------

    def _bearer(self, request: web.Request) -> str:
        header = request.headers.get("Authorization", "")
        return header[7:].strip() if header.lower().startswith("bearer ") else ""

    def _origin(self, request: web.Request) -> str:
        """This server as the connection reached it (socket address, not Host header)."""
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        if not sockname:
            raise _error(400, "BadArgument", "No local address")
        host, port = str(sockname[0]), int(sockname[1])
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def _conversation(self, request: web.Request) -> Conversation:
        conversation = self.conversations.get(request.match_info["cid"])
        if conversation is None or conversation.token != self._bearer(request):
            raise _error(403, "TokenInvalid", "Unknown conversation or token")
        return conversation

    async def _start(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        user = self.tokens.pop(token, None)
        if user is None:
            raise _error(403, "TokenInvalid", "Get a token from /chat/token first")
        cid = f"local-{next(self._ids)}-{secrets.token_hex(4)}"
        self.conversations[cid] = Conversation(cid, token, user)
        body = {"conversationId": cid, "token": token, "expires_in": TOKEN_SECONDS}
        return web.json_response(body, status=201)

    async def _reconnect(self, request: web.Request) -> web.Response:
        conversation = self._conversation(request)
        return web.json_response(
            {
                "conversationId": conversation.id,
                "token": conversation.token,
                "expires_in": TOKEN_SECONDS,
            }
        )

    async def _refresh(self, request: web.Request) -> web.Response:
        token = self._bearer(request)
        found = next((c for c in self.conversations.values() if c.token == token), None)
        if found is None:
            raise _error(403, "TokenInvalid", "Unknown token")
        return web.json_response(
            {"conversationId": found.id, "token": token, "expires_in": TOKEN_SECONDS}
        )

    async def _from_user(self, request: web.Request) -> web.Response:
        incoming = await _read(request)
        conversation = self._conversation(request)
        if not isinstance(incoming, dict) or incoming.get("type") not in ("message", "event"):
            raise _error(400, "BadArgument", "Only message and event activities")
        activity = {
            k: incoming[k]
            # channelData carries Web Chat's clientActivityID: the echo must keep it, or
            # the client never sees its message as sent.
            for k in (
                "type",
                "text",
                "textFormat",
                "value",
                "attachments",
                "locale",
                "name",
                "channelData",
            )
            if k in incoming
        }
        origin = self._origin(request)
        service_url = f"{origin}{CONNECTOR_PREFIX}/"
        activity.update(
            self._stamp(conversation, sender=conversation.user),
            channelId="directline",
            serviceUrl=service_url,
            recipient=BOT,
        )
        try:
            check_activity(activity)  # what the bot would refuse is refused here, with why
        except BadInput as exc:
            raise _error(400, "BadArgument", exc.message) from None
        self._connector_bearers[service_url] = self.bot_token
        self._append(conversation, activity)
        asyncio.get_running_loop().create_task(
            self._forward(conversation, activity, f"{origin}/api/messages")
        )
        return web.json_response({"id": activity["id"]})

    async def _forward(
        self, conversation: Conversation, activity: dict[str, Any], url: str
    ) -> None:
        """To the bot, in order per conversation, as the Direct Line channel would."""
        async with conversation.forwarding:
            try:
                async with self._http().post(
                    url, json=activity, timeout=FORWARD_TIMEOUT
                ) as response:
                    await response.read()
                    failed = response.status >= 300
            except (aiohttp.ClientError, TimeoutError, RuntimeError):  # RuntimeError: stopping
                failed = True
            if failed:
                log.error(
                    "webchat.local_forward_failed", extra=logs.fields(conversation=conversation.id)
                )
                self._append(conversation, {
                    **self._stamp(conversation, sender=BOT), "type": "message",
                    "text": "Sorry, the adviser could not be reached. Please try again.",
                })  # fmt: skip

    async def _since(self, request: web.Request) -> web.Response:
        conversation = self._conversation(request)
        try:
            watermark = max(0, int(request.query.get("watermark") or 0))
        except ValueError:
            watermark = 0
        return web.json_response(
            {
                "activities": conversation.activities[watermark:],
                "watermark": str(len(conversation.activities)),
            }
        )

    # --- the bot side (Bot Connector) --------------------------------------------------

    def _check_bot(self, request: web.Request) -> None:
        if not hmac.compare_digest(self._bearer(request).encode(), self.bot_token.encode()):
            raise _error(401, "Unauthorized", "The bot's token is required")

    async def _from_bot(self, request: web.Request) -> web.Response:
        activity = await _read(request)
        self._check_bot(request)
        conversation = self.conversations.get(request.match_info["cid"])
        if conversation is None:
            raise _error(404, "ConversationNotFound", "Unknown conversation")
        if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
            raise _error(400, "BadArgument", "The body must be a JSON activity")
        if (
            activity.get("type") == "typing"
            and conversation.activities[-1:]
            and (conversation.activities[-1].get("type") == "typing")
        ):
            return web.json_response({"id": conversation.activities[-1]["id"]})
        stamped = {**activity, **self._stamp(conversation, sender=BOT)}
        stamped["replyToId"] = request.match_info.get("aid") or activity.get("replyToId")
        if request.method == "PUT":
            # An update: a new activity that names the one it replaces, and the page
            # (chat.js) shows it in the old one's place.
            channel_data = activity.get("channelData")
            stamped["channelData"] = {
                **(channel_data if isinstance(channel_data, dict) else {}),
                "replacesActivity": request.match_info["aid"],
            }
        self._append(conversation, stamped)
        return web.json_response({"id": stamped["id"]}, status=201)

    async def _members(self, request: web.Request) -> web.Response:
        self._check_bot(request)
        conversation = self.conversations.get(request.match_info["cid"])
        return web.json_response([conversation.user] if conversation else [])

    def _stamp(self, conversation: Conversation, *, sender: dict[str, str]) -> dict[str, Any]:
        number = len(conversation.activities)
        return {
            "id": f"{conversation.id}|{number:07d}",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "from": dict(sender),
            "conversation": {"id": conversation.id},
        }

    def _append(self, conversation: Conversation, activity: dict[str, Any]) -> None:
        conversation.activities.append(activity)
        if len(conversation.activities) > MAX_ACTIVITIES:
            # Keep watermarks meaningful: blank old entries rather than shift positions.
            conversation.activities[-MAX_ACTIVITIES - 1] = {"type": "trace", "id": "dropped"}


async def _read(request: web.Request) -> object:
    """The JSON body, read once and first; any problem is Direct Line's 4xx error."""
    try:
        return await read_json(request)
    except BadInput as exc:
        raise _error(exc.status, "BadArgument", exc.message) from None


def _error(status: int, code: str, message: str) -> web.HTTPException:
    """Direct Line's error body, raised as the matching aiohttp HTTP exception."""
    body = json.dumps({"error": {"code": code, "message": message}})
    kinds: dict[int, type[web.HTTPException]] = {
        400: web.HTTPBadRequest,
        401: web.HTTPUnauthorized,
        403: web.HTTPForbidden,
        404: web.HTTPNotFound,
        413: web.HTTPRequestEntityTooLarge,
        415: web.HTTPUnsupportedMediaType,
    }
    kind = kinds.get(status, web.HTTPBadRequest)
    if kind is web.HTTPRequestEntityTooLarge:
        return web.HTTPRequestEntityTooLarge(
            max_size=0, actual_size=0, text=body, content_type="application/json"
        )
    return kind(text=body, content_type="application/json")
