"""A local Direct Line token service (`POST /v3/directline/tokens/generate`).

Answers like directline.botframework.com: 200 `{conversationId, token, expires_in}`
for the right secret, 403 otherwise; records the user each token was bound to.
"""

from __future__ import annotations

import itertools
from typing import Any

from aiohttp import web

from bot.fakes.server import LocalServer


class FakeDirectLine(LocalServer):
    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.issued: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self.port = 0

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3/directline"

    async def start(self) -> FakeDirectLine:
        app = web.Application()
        app.router.add_post("/v3/directline/tokens/generate", self._generate)
        app.router.add_post("/v3/directline/tokens/refresh", self._refresh)
        self.port = await self._serve(app)
        return self

    async def _generate(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.secret}":
            body = {"error": {"code": "BadArgument", "message": "Invalid secret"}}
            return web.json_response(body, status=403)
        user = (await request.json()).get("user", {})
        number = next(self._ids)
        issued = {"conversationId": f"dl-conv-{number}", "token": f"dl-token-{number}",
                  "expires_in": 3600}  # fmt: skip
        self.issued.append({**issued, "user": user})
        return web.json_response(issued)

    async def _refresh(self, request: web.Request) -> web.Response:
        bearer = request.headers.get("Authorization", "")[7:]
        known = next((i for i in self.issued if i["token"] == bearer), None)
        if known is None:
            body = {"error": {"code": "TokenExpired", "message": "Token not valid"}}
            return web.json_response(body, status=403)
        refreshed = {"conversationId": known["conversationId"], "token": f"{bearer}-r",
                     "expires_in": 3600}  # fmt: skip
        self.issued.append({**refreshed, "user": known["user"]})
        return web.json_response(refreshed)
