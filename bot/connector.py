"""A lean Bot Connector REST client on aiohttp: replies, proactive sends, card updates.

Why not the Bot Framework SDK's: it serialises every card through msrest and deep-copies it per
send (most of a turn's CPU), and it does not retry Teams' throttling. This client posts
the JSON as it is, URL-encodes Teams ids (they contain ':' and ';'), and retries 429,
412, 502, 503 and 504 with exponential backoff, honouring `Retry-After`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from bot import logs

log = logging.getLogger("bot.connector")

RETRY_STATUSES = frozenset({412, 429, 502, 503, 504})

TokenSource = Callable[[], Awaitable[str | None]]  # None: local mode, no Authorization


class ConnectorError(Exception):
    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"Bot Connector answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.retry_after = retry_after


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff: float = self.base_delay * 2**attempt
        return min(backoff, self.max_delay) * random.uniform(0.5, 1.0)  # noqa: S311 - jitter


def _encode(value: str) -> str:
    return quote(value, safe="")


class BotConnectorClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        token: TokenSource,
        retry: RetryPolicy | None = None,
    ) -> None:
        self.session = session
        self.token = token
        self.retry = retry or RetryPolicy()

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
        for attempt in range(self.retry.attempts):
            token = await self.token()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            async with self.session.request(method, url, json=payload, headers=headers) as resp:
                if resp.status < 300:
                    if resp.content_type == "application/json":
                        return await resp.json()
                    return {}
                text = await resp.text()
                code, message = _error(text)
                retryable = resp.status in RETRY_STATUSES and attempt + 1 < self.retry.attempts
                log.warning(
                    "connector.error",
                    extra=logs.fields(
                        method=method,
                        status=resp.status,
                        code=code,
                        attempt=attempt + 1,
                        retrying=retryable,
                    ),
                )
                retry_after = _retry_after(resp.headers.get("Retry-After"))
                if not retryable:
                    raise ConnectorError(resp.status, code, message, retry_after)
                delay = self.retry.delay(attempt, retry_after)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable: the last attempt raises")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _error(text: str) -> tuple[str, str]:
    try:
        error = json.loads(text).get("error", {})
        return str(error.get("code", "unknown")), str(error.get("message", ""))[:200]
    except (ValueError, AttributeError):
        return "unknown", text[:200]
