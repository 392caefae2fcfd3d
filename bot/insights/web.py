"""`GET /insights`: the insights page, for members of the DCCT team only.

The caller sends the same Entra ID access token for the bot's API that the SharePoint
web part sends for its chat (`Authorization: Bearer …`), checked the same way
(bot/webchat/token.py), and must then be a member of the configured DCCT team. In local
mode with no token check configured, the page is open to the machine it runs on, as
the local web chat is. `?since=YYYY-MM-DD&until=YYYY-MM-DD` picks the period.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import date
from html import escape

from aiohttp import web

from bot import logs
from bot.conversation.types import Person
from bot.insights.page import render_page
from bot.insights.report import Period
from bot.insights.service import Access, DcctAccess, InsightsSource
from bot.webchat.token import EntraTokenValidator, InvalidToken

log = logging.getLogger("bot.insights")
Handler = Callable[[web.Request], Awaitable[web.Response]]
HEADERS = {
    "Cache-Control": "no-store",
    # No script, nothing fetched: styles and the SVG are inline.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
LOCAL_VIEWER = Person(
    user_id="local-insights", name="Local user", aad_object_id="local-insights",
    tenant_id=None, channel_id="insights-page",
)  # fmt: skip


def _page(status: int, title: str, message: str, **headers: str) -> web.Response:
    body = (
        "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'>"
        f"<title>{escape(title)} – Social media policy adviser</title></head><body><main>"
        f"<h1>{escape(title)}</h1><p>{escape(message)}</p></main></body></html>"
    )
    return web.Response(
        text=body, status=status, content_type="text/html", headers={**HEADERS, **headers}
    )


def _period(request: web.Request, source: InsightsSource) -> Period | str:
    """The period asked for, or what is wrong with the query."""
    try:
        since = date.fromisoformat(request.query["since"]) if "since" in request.query else None
        until = date.fromisoformat(request.query["until"]) if "until" in request.query else None
    except ValueError:
        return "Give dates as YYYY-MM-DD, e.g. ?since=2026-01-01."
    if since is None:
        return source.default_period() if until is None else "Give ?since= with ?until=."
    if until is not None and until < since:
        return "?until= must not be before ?since=."
    return Period.from_dates(since, until, source.clock.now())


def insights_page(
    source: InsightsSource,
    access: DcctAccess,
    validator: EntraTokenValidator | None,
    *,
    service_url: str,
) -> Handler:
    """`validator` None: local mode, no sign-in. `service_url`: where Teams lists the DCCT
    team's members (a web request, unlike a chat message, does not bring one)."""

    async def handle(request: web.Request) -> web.Response:
        person = LOCAL_VIEWER
        if validator is not None:
            try:
                caller = await validator.caller(request.headers.get("Authorization"))
            except InvalidToken as exc:
                log.warning("insights.token_refused", extra=logs.fields(reason=str(exc)))
                return _page(401, "Sign in", "Sign in with your Parliament account.",
                             **{"WWW-Authenticate": "Bearer"})  # fmt: skip
            if access.team_configured and not service_url:
                log.error("insights.no_service_url")
                return _page(503, "Not set up", "The insights page needs DCCT_SERVICE_URL or "
                             "TEAMS_SERVICE_URL (see the runbook) to check who is in the DCCT "
                             "team.")  # fmt: skip
            person = Person(
                user_id=f"page:{caller.object_id}", name=caller.name,
                aad_object_id=caller.object_id, tenant_id=None, channel_id="insights-page",
                conversation={"serviceUrl": service_url},
            )  # fmt: skip
        allowed = await access.check(person)
        log.info("insights.page", extra=logs.fields(access=allowed.value))
        if allowed is Access.REFUSED:
            return _page(403, "Not available", "The insights are for members of the DCCT team.")
        if allowed is Access.UNKNOWN:
            return _page(503, "Try again", "I couldn't check the DCCT team's members just now.")
        period = _period(request, source)
        if isinstance(period, str):
            return _page(400, "Bad dates", period)
        html = render_page(await source.report(period), viewer=person.name or "you",
                           local=validator is None)  # fmt: skip
        return web.Response(text=html, content_type="text/html", headers=HEADERS)

    return handle
