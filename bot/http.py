"""Outbound HTTP, once: a client base, one error hierarchy, one Retry-After parser, one backoff.

The Bot Connector, Graph and Direct Line token clients differ only in their base URL,
their tokens and which answers are worth retrying; everything else is here, so a caller
catches `HttpError` (or `ServiceError.transient`) instead of one exception per service
and never needs to import aiohttp to catch a network failure.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot import logs

log = logging.getLogger("bot.http")

TokenSource = Callable[[], Awaitable[str | None]]  # None: send no Authorization header


class SharedSession:
    """The app's one `ClientSession`, which exists only while the app runs.

    `lifetime` is a cleanup context added before every user of it, so it opens first
    and closes last; clients ask for the session per call (`shared()`), never keep it.
    """

    TIMEOUT_SECONDS = 30.0

    def __init__(self) -> None:
        self._session: aiohttp.ClientSession | None = None

    def __call__(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("the app is not running: no HTTP session")
        return self._session

    async def lifetime(self, app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=self.TIMEOUT_SECONDS)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self._session = session
            yield
            self._session = None


class HttpError(Exception):
    """An outbound call failed. `transient`: the same call later may succeed."""

    transient: bool = False
    retry_after: float | None = None


class ServiceError(HttpError):
    """The service answered, with an error status."""

    def __init__(
        self,
        service: str,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: float | None = None,
        transient: bool = False,
    ) -> None:
        super().__init__(f"{service} answered {status} {code}: {message}")
        self.service = service
        self.status = status
        self.code = code
        self.retry_after = retry_after
        self.transient = transient


class TransportError(HttpError):
    """No answer: the connection failed or timed out."""

    transient = True


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header; None when absent or an HTTP date (rare from
    these services: the caller's own backoff applies)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_body(text: str, limit: int = 300) -> tuple[str, str]:
    """(code, message) from the `{"error": {"code", "message"}}` body all three use."""
    try:
        body = json.loads(text)
        error = body.get("error", {}) if isinstance(body, dict) else {}
        return str(error.get("code", "unknown")), str(error.get("message", ""))[:limit]
    except (ValueError, AttributeError):
        return "unknown", text[:limit]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff (optionally jittered), or the server's `Retry-After`.

    `hand_back_after`: a server wait longer than this is not slept through but raised,
    so a durable caller (the outbox) can schedule it instead of holding a task.
    """

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    jitter: bool = True
    hand_back_after: float | None = None
    retry_transport: bool = False  # retry a failed connection within the call
    # How a wait is spent: the event loop's sleep, or a test's recorder of the waits.
    sleep: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, compare=False)

    def delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Seconds to wait before retry number `attempt` (0-based); None: give up now."""
        if attempt + 1 >= self.attempts:
            return None
        if retry_after is not None:
            if self.hand_back_after is not None and retry_after > self.hand_back_after:
                return None
            return min(retry_after, self.max_delay)
        backoff: float = min(self.base_delay * 2**attempt, self.max_delay)
        if self.jitter:
            backoff *= random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        return backoff


class ServiceClient:
    """One service over the app's shared session: tokens, retries, one error type."""

    SERVICE = "service"
    RETRY_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})
    TIMEOUT_SECONDS: float | None = None  # None: the shared session's

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: TokenSource,
        retry: RetryPolicy,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.retry = retry
        self._timeout = aiohttp.ClientTimeout(
            total=self.TIMEOUT_SECONDS or SharedSession.TIMEOUT_SECONDS
        )

    def is_transient(self, status: int) -> bool:
        """Whether an error status is worth trying again later (after this call)."""
        return status in self.RETRY_STATUSES

    async def request(
        self,
        method: str,
        url: str,
        *,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        bearer: str | None = None,
    ) -> Any:
        """Call `url` (absolute, or a path under the base URL); the JSON body, or {}.

        `bearer` overrides the token source for this call.
        """
        if not url.startswith(("http://", "https://")):
            url = self.base_url + "/" + url.lstrip("/")
        attempt = 0
        while True:
            token = bearer if bearer is not None else await self.token()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            error: HttpError
            try:
                async with self.session.request(
                    method, url, json=json, params=params, headers=headers, timeout=self._timeout
                ) as resp:
                    if resp.status < 300:
                        if resp.content_type == "application/json":
                            return await resp.json()
                        return {}
                    code, message = error_body(await resp.text())
                    error = ServiceError(
                        self.SERVICE,
                        resp.status,
                        code,
                        message,
                        retry_after=parse_retry_after(resp.headers.get("Retry-After")),
                        transient=self.is_transient(resp.status),
                    )
                    retryable = resp.status in self.RETRY_STATUSES
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = TransportError(f"{self.SERVICE}: {type(exc).__name__} {exc}")
                retryable = self.retry.retry_transport
            wait = self.retry.delay(attempt, error.retry_after) if retryable else None
            log.warning(
                "http.error",
                extra=logs.fields(
                    service=self.SERVICE,
                    method=method,
                    path=url.split("?")[0].removeprefix(self.base_url),
                    status=getattr(error, "status", 0),
                    code=getattr(error, "code", "network"),
                    attempt=attempt + 1,
                    retrying=wait is not None,
                ),
            )
            if wait is None:
                raise error
            await self.retry.sleep(wait)
            attempt += 1
