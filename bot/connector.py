"""A lean Bot Connector REST client on aiohttp: replies, proactive sends, card updates.

Why not the Bot Framework SDK's: it serialises every card through msrest and deep-copies it per
send (most of a turn's CPU), and it does not retry Teams' throttling. This client posts
the JSON as it is, URL-encodes Teams ids (they contain ':' and ';'), and retries 429,
412, 502, 503 and 504 with exponential backoff, honouring `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.http import RetryPolicy, ServiceClient, TokenSource

# 412: Teams' "precondition failed" while a conversation is being created; worth a retry.
RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})
RETRY = RetryPolicy(attempts=5, base_delay=0.5, max_delay=30.0)


def _encode(value: str) -> str:
    return quote(value, safe="")


class BotConnectorClient(ServiceClient):
    """The Bot Connector at each conversation's own serviceUrl (there is no base URL)."""

    SERVICE = "Bot Connector"
    RETRY_STATUSES = RETRY_STATUSES

    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: TokenSource,
        retry: RetryPolicy | None = None,
        bearers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(session, "", token, retry or RETRY)
        # serviceUrl -> the token a local stand-in expects instead of the bot's own (which
        # in local mode is none): sent only to exactly that URL, never elsewhere.
        self.bearers = bearers or {}

    def with_retry(self, retry: RetryPolicy) -> BotConnectorClient:
        """The same client with another retry policy (the outbox retries on its own)."""
        return BotConnectorClient(self.session, self.token, retry, self.bearers)

    def is_transient(self, status: int) -> bool:
        # Any server error may pass: the outbox tries again later.
        return status in RETRY_STATUSES or status >= 500

    async def send(
        self,
        service_url: str,
        conversation_id: str,
        activity: dict[str, Any],
        reply_to: str | None = None,
    ) -> str:
        """Post an activity (as a reply when `reply_to` is given); return its id."""
        path = f"v3/conversations/{_encode(conversation_id)}/activities"
        if reply_to:
            path += f"/{_encode(reply_to)}"
        body = await self._call("POST", service_url, path, activity)
        return str(body.get("id", ""))

    async def update(
        self, service_url: str, conversation_id: str, activity_id: str, activity: dict[str, Any]
    ) -> None:
        path = f"v3/conversations/{_encode(conversation_id)}/activities/{_encode(activity_id)}"
        await self._call("PUT", service_url, path, {**activity, "id": activity_id})

    async def create_conversation(
        self, service_url: str, parameters: dict[str, Any]
    ) -> dict[str, Any]:
        """`POST v3/conversations`: start a 1:1 or channel conversation (proactive)."""
        body = await self._call("POST", service_url, "v3/conversations", parameters)
        return body if isinstance(body, dict) else {}

    async def members(self, service_url: str, conversation_id: str) -> list[dict[str, Any]]:
        path = f"v3/conversations/{_encode(conversation_id)}/members"
        body = await self._call("GET", service_url, path, None)
        return body if isinstance(body, list) else []

    async def _call(
        self, method: str, service_url: str, path: str, payload: dict[str, Any] | None
    ) -> Any:
        url = service_url.rstrip("/") + "/" + path
        return await self.request(method, url, json=payload, bearer=self.bearers.get(service_url))
