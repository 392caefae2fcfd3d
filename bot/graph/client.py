"""The Microsoft Graph calls escalation makes, app-only, over aiohttp.

Graph is used for people, not messages: its chat and channel send APIs are
delegated-only, so requests reach people as bot messages (see escalation/outbox.py);
Graph adds an alert in the recipient's Teams activity feed beside the message. Each
call names the application permission it needs (deploy/README.md, step 3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

import aiohttp

from bot.http import RetryPolicy, ServiceClient, ServiceError, TokenSource


@dataclass(frozen=True)
class DirectoryUser:
    id: str
    name: str
    mail: str | None = None


@dataclass(frozen=True)
class ActivityNotice:
    """One alert in a person's Teams activity feed (`sendActivityNotification`)."""

    activity_type: str  # declared in the app manifest's `activities`
    topic: str  # plain text shown as the notification's topic
    web_url: str  # where selecting it goes: a teams.microsoft.com deep link
    preview: str  # Teams shows the first 150 characters
    parameters: dict[str, str]  # the activity type's templateText variables
    chain_id: int | None = None  # a later notice with the same chain replaces this one


class Directory(Protocol):
    async def manager(self, user_id: str) -> DirectoryUser | None:
        """The user's line manager, or None if none is recorded."""
        ...

    async def install_app(self, user_id: str, catalog_app_id: str) -> None:
        """Install our Teams app for a user so the bot can message them (idempotent)."""
        ...

    async def send_mail(self, sender: str, to: str, subject: str, html: str) -> None: ...

    async def notify_activity(self, user_id: str, notice: ActivityNotice) -> None:
        """Put `notice` in the user's Teams activity feed (the app must be installed for
        them: personally, or in a team they are in)."""
        ...


# Short waits are slept through; a longer Retry-After goes back to the outbox, which
# schedules the row instead of holding a task (and the asker's chat) for minutes.
RETRY = RetryPolicy(
    attempts=3, base_delay=1.0, max_delay=10.0, jitter=False, hand_back_after=10.0,
    retry_transport=True,
)  # fmt: skip


class GraphClient(ServiceClient):
    SERVICE = "Graph"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        token: TokenSource,
        retry: RetryPolicy = RETRY,
    ) -> None:
        super().__init__(session, base_url, token, retry)

    async def manager(self, user_id: str) -> DirectoryUser | None:
        # Needs User.Read.All. Support for /manager with application permissions is
        # documented unevenly, so a 403/400 falls back to $expand=manager.
        user = quote(user_id, safe="")
        try:
            body = await self._call(
                "GET", f"/users/{user}/manager", params={"$select": "id,displayName,mail"}
            )
        except ServiceError as exc:
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
        except ServiceError as exc:
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

    async def notify_activity(self, user_id: str, notice: ActivityNotice) -> None:
        # Needs TeamsActivity.Send. 204 No Content on success.
        body: dict[str, Any] = {
            "topic": {"source": "text", "value": notice.topic, "webUrl": notice.web_url},
            "activityType": notice.activity_type,
            "previewText": {"content": notice.preview[:150]},
            "templateParameters": [
                {"name": name, "value": value} for name, value in notice.parameters.items()
            ],
        }
        if notice.chain_id is not None:
            body["chainId"] = notice.chain_id
        await self._call(
            "POST", f"/users/{quote(user_id, safe='')}/teamwork/sendActivityNotification", json=body
        )

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        body = await self.request(method, path, json=json, params=params)
        return body if isinstance(body, dict) else {}
