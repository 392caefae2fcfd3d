"""The Microsoft Graph calls escalation makes, app-only, over aiohttp.

Graph is used for people, not messages: its chat and channel send APIs are
delegated-only, so requests reach people as bot messages (see escalation/outbox.py).
Each call names the application permission it needs (deploy/azure/permissions.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from bot import logs

log = logging.getLogger("bot.graph")

RETRY_STATUSES = frozenset({429, 502, 503, 504})


class GraphError(Exception):
    """A Graph call failed; `retry_after` is set when trying later may work."""

    def __init__(
        self, status: int, code: str, message: str, retry_after: float | None = None
    ) -> None:
        super().__init__(f"Graph answered {status} {code}: {message}")
        self.status = status
        self.code = code
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        return self.status in RETRY_STATUSES or self.status == 0


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    name: str
    mail: str | None = None


class Directory(Protocol):
    async def manager(self, user_id: str) -> DirectoryUser | None:
        """The user's line manager, or None if none is recorded."""
        ...

    async def install_app(self, user_id: str, catalog_app_id: str) -> None:
        """Install our Teams app for a user so the bot can message them (idempotent)."""
        ...

    async def send_mail(self, sender: str, to: str, subject: str, html: str) -> None: ...


TokenSource = Callable[[], Awaitable[str]]


class GraphClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: TokenSource,
        *,
        attempts: int = 3,
        max_wait: float = 10.0,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.attempts = attempts
        self.max_wait = max_wait

    async def manager(self, user_id: str) -> DirectoryUser | None:
        # Needs User.Read.All. Support for /manager with application permissions is
        # documented unevenly, so a 403/400 falls back to $expand=manager.
        user = quote(user_id, safe="")
        try:
            body = await self._call(
                "GET", f"/users/{user}/manager", params={"$select": "id,displayName,mail"}
            )
        except GraphError as exc:
            if exc.status == 404:
                return None
            if exc.status not in (400, 403):
                raise
            body = await self._call(
                "GET",
                f"/users/{user}",
                params={"$select": "id", "$expand": "manager($select=id,displayName,mail)"},
            )
            body = body.get("manager") or {}
        if not body.get("id"):
            return None
        return DirectoryUser(str(body["id"]), str(body.get("displayName") or ""), body.get("mail"))

    async def install_app(self, user_id: str, catalog_app_id: str) -> None:
        # Needs TeamsAppInstallation.ReadWriteSelfForUser.All. 409 = already installed.
        bind = f"{self.base_url}/appCatalogs/teamsApps/{quote(catalog_app_id, safe='')}"
        try:
            await self._call(
                "POST",
                f"/users/{quote(user_id, safe='')}/teamwork/installedApps",
                json={"teamsApp@odata.bind": bind},
            )
        except GraphError as exc:
            if exc.status != 409:
                raise

    async def send_mail(self, sender: str, to: str, subject: str, html: str) -> None:
        # Needs Mail.Send, limited to the sender mailbox by an application access policy.
        message = {
            "subject": subject,
            "body": {"contentType": "HTML", "content": html},
            "toRecipients": [{"emailAddress": {"address": to}}],
        }
        await self._call(
            "POST",
            f"/users/{quote(sender, safe='')}/sendMail",
            json={"message": message, "saveToSentItems": True},
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        url = self.base_url + path
        for attempt in range(1, self.attempts + 1):
            headers = {"Authorization": f"Bearer {await self.token()}"}
            try:
                async with self.session.request(
                    method, url, json=json, params=params, headers=headers
                ) as resp:
                    if resp.status < 300:
                        if resp.content_type == "application/json":
                            body = await resp.json()
                            return body if isinstance(body, dict) else {}
                        return {}
                    error = await _error(resp)
            except aiohttp.ClientError as exc:
                error = GraphError(0, "network", str(exc), retry_after=None)
            log.warning(
                "graph.error",
                extra=logs.fields(
                    method=method, path=path.split("?")[0], status=error.status,
                    code=error.code, attempt=attempt,
                ),
            )  # fmt: skip
            wait = error.retry_after if error.retry_after is not None else 0.5 * 2**attempt
            if not error.transient or attempt == self.attempts or wait > self.max_wait:
                raise error
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")


async def _error(resp: aiohttp.ClientResponse) -> GraphError:
    code, message = "unknown", ""
    try:
        body = await resp.json(content_type=None)
        err = body.get("error", {}) if isinstance(body, dict) else {}
        code = str(err.get("code", code))
        message = str(err.get("message", ""))[:300]
    except (ValueError, aiohttp.ContentTypeError):
        message = (await resp.text())[:300]
    retry_after: float | None = None
    raw = resp.headers.get("Retry-After")
    if raw:
        try:
            retry_after = max(0.0, float(raw))
        except ValueError:
            retry_after = None
    return GraphError(resp.status, code, message, retry_after)
