"""`GET /chat`: the adviser in the real Web Chat client, for local mode only.

The page and its script are ours; Web Chat itself comes from its npm package
(`scripts/fetch-webchat`), never from a CDN. Mounted only without `MicrosoftAppId`,
together with the local Direct Line stand-in it talks to.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from aiohttp import web

from bot.http import SharedSession
from bot.settings import Settings
from bot.webchat.local_directline import LocalDirectLine

STATIC = Path(__file__).parent / "static"
MISSING_CLIENT = (
    "<!doctype html><html lang='en-GB'><head><meta charset='utf-8'><title>Web Chat missing"
    "</title></head><body><main><h1>The Web Chat client is not installed</h1><p>Run "
    "<code>bash scripts/fetch-webchat</code> in the project folder, then reload this page."
    "</p></main></body></html>"
)


def setup_local_chat(
    app: web.Application, settings: Settings, http: SharedSession
) -> LocalDirectLine | None:
    if not settings.local_mode:
        return None  # production web chat is the SharePoint web part and Azure Direct Line
    directline = LocalDirectLine(http)
    directline.mount(app)

    async def page(request: web.Request) -> web.StreamResponse:
        if not (STATIC / "vendor" / "webchat.js").is_file():
            return web.Response(text=MISSING_CLIENT, content_type="text/html", status=503)
        return web.FileResponse(STATIC / "chat.html", headers={"Cache-Control": "no-store"})

    async def token(request: web.Request) -> web.Response:
        # A local user with an id shaped like a signed-in one (dl_<object id>), so
        # escalation works through the local stand-in expert.
        user_id = f"dl_local-{secrets.token_hex(6)}"
        issued = directline.issue_token(user_id, "Local user")
        return web.json_response({**issued, "name": "Local user"})

    app.router.add_get("/chat", page)
    app.router.add_post("/chat/token", token)
    app.router.add_static("/chat/static", STATIC, follow_symlinks=False)
    return directline
