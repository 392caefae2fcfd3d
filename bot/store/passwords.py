"""Where the PostgreSQL password comes from: the URL, or an Entra ID access token.

Azure Database for PostgreSQL with Entra ID authentication takes the managed identity's
access token (scope `ENTRA_SCOPE`) as the password of a database user named after the
identity. A token lives about an hour, and the server checks it only when a connection
opens, so each new connection asks `EntraPassword`, which keeps the token until
`refresh_before` its expiry and then fetches a fresh one. Open connections are unaffected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.clock import Clock

ENTRA_SCOPE = "https://ossrdbms-aad.database.windows.net/.default"

# The token and the seconds it has left (msal's `expires_in`).
TokenWithLifetime = Callable[[], Awaitable[tuple[str, float]]]


class PasswordSource(Protocol):
    async def password(self) -> str | None:
        """The password for a new connection; None: the URL's own (or PGPASSWORD)."""
        ...


class UrlPassword:
    """A plain password, given in the URL or by libpq's PGPASSWORD: for local use."""

    async def password(self) -> str | None:
        return None


@dataclass
class _Cached:
    value: str
    expires_at: datetime


class EntraPassword:
    def __init__(
        self,
        tokens: TokenWithLifetime,
        clock: Clock,
        refresh_before: timedelta = timedelta(minutes=5),
    ) -> None:
        self.tokens = tokens
        self.clock = clock
        self.refresh_before = refresh_before
        self._cached: _Cached | None = None
        self._lock: asyncio.Lock | None = None

    async def password(self) -> str | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # connections opened together share one token request
            cached = self._cached
            if cached is None or self.clock.now() >= cached.expires_at - self.refresh_before:
                value, lifetime = await self.tokens()
                cached = _Cached(value, self.clock.now() + timedelta(seconds=lifetime))
                self._cached = cached
            return cached.value
