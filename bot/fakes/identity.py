"""A local Entra ID token endpoint over HTTPS, for msal's client-credentials flow.

msal refuses plain-http authorities, so this serves TLS with a throwaway CA made by
`trustme`; pass `ca_path` to msal as `verify`. It answers OpenID discovery and
`/oauth2/v2.0/token` like login.microsoftonline.com, including its error bodies.
"""

from __future__ import annotations

import itertools
import ssl
import tempfile
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

from bot.fakes.server import LocalServer


class FakeIdentity(LocalServer):
    def __init__(
        self, client_id: str, secret: str, tenant: str = "fake-tenant.onmicrosoft.com"
    ) -> None:
        self.client_id = client_id
        self.secret = secret
        self.tenant = tenant
        self.token_requests: list[dict[str, str]] = []
        self._ids = itertools.count(1)
        self._ca = trustme.CA()
        self._dir = tempfile.TemporaryDirectory()
        self.ca_path = str(Path(self._dir.name) / "ca.pem")
        self._ca.cert_pem.write_to_path(self.ca_path)
        self.port = 0

    @property
    def authority_host(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    async def start(self) -> FakeIdentity:
        app = web.Application()
        app.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._discovery)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.port = await self._serve(app, ssl_context=context)
        return self

    async def stop(self) -> None:
        await super().stop()
        self._dir.cleanup()

    async def _discovery(self, request: web.Request) -> web.Response:
        base = f"{self.authority_host}/{request.match_info['tenant']}"
        return web.json_response(
            {
                "issuer": f"{base}/v2.0",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": ["client_secret_post"],
            }
        )

    async def _token(self, request: web.Request) -> web.Response:
        form: dict[str, Any] = dict(await request.post())
        self.token_requests.append({k: str(v) for k, v in form.items() if k != "client_secret"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.secret:
            return web.json_response(
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
                status=401,
            )
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": f"graph-token-{next(self._ids)}",
            }
        )
