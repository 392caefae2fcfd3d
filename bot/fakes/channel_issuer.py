"""A local Bot Framework token issuer: signs channel JWTs and serves OpenID metadata.

Azure Bot Service signs every activity it posts with a key published at
login.botframework.com. This stand-in does the same on 127.0.0.1 so the SDK's real
validation runs in tests. The Python Bot Framework SDK fetches the metadata with blocking
`requests`, so the server runs on its own thread, not on the event loop under test.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.local"


def _b64(number: int) -> str:
    raw = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


class ChannelIssuer:
    def __init__(self, kid: str = "local-key-1", endorsements: tuple[str, ...] = ("msteams",)):
        self.kid = kid
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        numbers = self.key.public_key().public_numbers()
        self.jwk = {
            "kty": "RSA",
            "use": "sig",
            "kid": kid,
            "n": _b64(numbers.n),
            "e": _b64(numbers.e),
            "endorsements": list(endorsements),
        }
        self._server: ThreadingHTTPServer | None = None
        self.requests = 0
        self._held: tuple[threading.Event, threading.Event] | None = None

    def hold_metadata(self) -> tuple[threading.Event, threading.Event]:
        """Hold metadata requests open: returns (`asked`, set when one arrives, and
        `release`, which the caller sets to let it, and any later one, be answered)."""
        self._held = (threading.Event(), threading.Event())
        return self._held

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def metadata_url(self) -> str:
        return f"{self.base_url}/v1/.well-known/openidconfiguration"

    def start(self) -> ChannelIssuer:
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests += 1
                base = issuer.base_url
                if self.path.endswith("openidconfiguration") and issuer._held is not None:
                    asked, release = issuer._held
                    asked.set()
                    release.wait()
                if self.path.endswith("openidconfiguration"):
                    body: dict[str, Any] = {
                        "issuer": ISSUER,
                        "jwks_uri": f"{base}/v1/.well-known/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }
                elif self.path.endswith("/keys"):
                    body = {"keys": [issuer.jwk]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def token(
        self,
        app_id: str,
        service_url: str,
        *,
        issuer: str = ISSUER,
        lifetime: int = 3600,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        now = int(time.time())
        claims = {
            "iss": issuer,
            "aud": app_id,
            "serviceurl": service_url,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.kid})
