"""`GET /chat`: the adviser in the real Web Chat client, for local mode only.

The page and its script are ours; Web Chat itself comes from its npm package
(`scripts/fetch-webchat`; the wheel and the image carry it), never from a CDN. Mounted
only without `MicrosoftAppId`, together with the local Direct Line stand-in it talks to.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from aiohttp import web

from bot import logs
from bot.channels.directline.identity import WebChatIds
from bot.channels.directline.stand_in import CONNECTOR_PREFIX, LocalDirectLine
from bot.channels.inbound import ServiceUrls
from bot.http import SharedSession
from bot.settings import Settings

STATIC = Path(__file__).parent / "static"
CLIENT = STATIC / "vendor" / "webchat.js"
log = logging.getLogger("bot.webchat")


def missing_client_page(project: Path) -> str:
    """What /chat says when the Web Chat client is absent from `project` (the folder
    above the bot package): in a checkout the fix is one script; an installed package
    (a wheel, the container) was built wrongly, since a proper build refuses to go on
    without the client (hatch_build.py), and only a rebuild helps."""
    if (project / "scripts" / "fetch-webchat").is_file():
        advice = (
            "Run <code>bash scripts/fetch-webchat</code> in the project folder, then reload "
            "this page."
        )
    else:
        advice = (
            "This installation of the adviser was built without it, so it was built wrongly. "
            "Build the wheel or the container image again from a checkout of the project: "
            "the wheel build fetches nothing itself and stops when the client is missing "
            "(run <code>bash scripts/fetch-webchat</code> first), the Dockerfile fetches it."
        )
    return (
        "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Web Chat "
        "missing</title></head><body><main><h1>The Web Chat client is not installed</h1>"
        f"<p>{advice}</p></main></body></html>"
    )


def setup_local_chat(
    app: web.Application,
    settings: Settings,
    http: SharedSession,
    service_urls: ServiceUrls,
    connector_bearers: dict[str, str],
    web_chat_ids: WebChatIds,
) -> LocalDirectLine | None:
    """`connector_bearers`: where the stand-in leaves the token the bot must present on
    its Bot Connector routes (by serviceUrl, read by the bot's Bot Connector client)."""
    if not settings.local_mode:
        return None  # production web chat is the SharePoint web part and Azure Direct Line
    directline = LocalDirectLine(http, connector_bearers)
    directline.mount(app)
    service_urls.allow_own(CONNECTOR_PREFIX + "/")
    if not CLIENT.is_file():
        log.error("webchat.client_missing", extra=logs.fields(path=str(CLIENT)))

    async def page(request: web.Request) -> web.StreamResponse:
        if not CLIENT.is_file():
            text = missing_client_page(STATIC.parents[3])
            return web.Response(text=text, content_type="text/html", status=503)
        return web.FileResponse(STATIC / "chat.html", headers={"Cache-Control": "no-store"})

    async def token(request: web.Request) -> web.Response:
        # A local user with a signed id like a signed-in one's, so escalation works
        # through the local stand-in expert.
        user_id = web_chat_ids.issue(f"local-{secrets.token_hex(6)}")
        issued = directline.issue_token(user_id, "Local user")
        return web.json_response({**issued, "name": "Local user"})

    app.router.add_get("/chat", page)
    app.router.add_post("/chat/token", token)
    vendor = (STATIC / "vendor").resolve()
    if vendor.is_dir():
        # The fetched client may be a link to a shared copy (a second checkout): serve it
        # from where it really is, and still follow no links out of either folder.
        app.router.add_static("/chat/static/vendor", vendor, follow_symlinks=False)
    app.router.add_static("/chat/static", STATIC, follow_symlinks=False)
    return directline
