"""`POST /api/directline/token`: a short-lived Direct Line token for a signed-in user.

The SharePoint web part sends an Entra ID access token for the bot's API; we check its
signature, issuer, audience and expiry against the tenant's keys, then exchange the
Direct Line secret (which never leaves the server) for a conversation token bound to a
user id the bot signed (`dl_<Entra object id>_<signature>`, see
bot/channels/directline/identity.py), so the bot knows who is asking and escalation
reaches their own manager. Each user may fetch a few tokens a minute, and may refresh
only a token that was issued to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import jwt
from aiohttp import web

from bot import logs
from bot.channels.directline.identity import WebChatIds
from bot.channels.inbound import BadInput, read_optional_json
from bot.http import HttpError, RetryPolicy, ServiceClient

log = logging.getLogger("bot.webchat")
MAX_BODY = 8 * 1024


class InvalidToken(Exception):  # noqa: N818 - reads better at the call site
    """The caller's token is missing, expired, for another audience, or forged."""


@dataclass(frozen=True)
class Caller:
    object_id: str
    name: str


class EntraTokenValidator:
    """Validates access tokens for our API with the tenant's published signing keys."""

    def __init__(self, jwks_url: str, audiences: list[str], issuers: list[str]) -> None:
        # Lists, because v1 and v2 tokens differ: v2 has the app's client id as audience
        # and login.microsoftonline.com/<tenant>/v2.0 as issuer, v1 the app id URI and
        # sts.windows.net/<tenant>/ (which one depends on accessTokenAcceptedVersion).
        self.audiences = audiences
        self.issuers = issuers
        # PyJWKClient caches keys and fetches with urllib (blocking): run it on a thread.
        self._keys = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=12 * 3600)

    async def caller(self, authorization: str | None) -> Caller:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise InvalidToken("no bearer token")
        token = authorization[7:].strip()
        try:
            key = await asyncio.to_thread(self._keys.get_signing_key_from_jwt, token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self.audiences,
                issuer=self.issuers,
                options={"require": ["exp", "aud", "iss", "oid"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidToken(type(exc).__name__) from exc
        return Caller(str(claims["oid"]), str(claims.get("name") or ""))


async def _no_token() -> None:
    return None  # every call names its own bearer: the secret, or the token to refresh


class DirectLineTokenService(ServiceClient):
    """Direct Line 3.0 `tokens/generate`, authorised with the channel secret.

    Not retried: the browser asking for a token retries on its own, and a slow token is
    worse than a quick 502.
    """

    SERVICE = "Direct Line"
    TIMEOUT_SECONDS = 15.0  # a browser is waiting

    def __init__(self, session: aiohttp.ClientSession, endpoint: str, secret: str) -> None:
        super().__init__(session, endpoint, _no_token, RetryPolicy(attempts=1))
        self._secret = secret

    async def generate(self, user_id: str, name: str) -> dict[str, Any]:
        body = {"user": {"id": user_id, "name": name}}
        return await self._post("tokens/generate", self._secret, body)

    async def refresh(self, token: str) -> dict[str, Any]:
        """A fresh expiry for a token Direct Line issued (it authorises itself)."""
        return await self._post("tokens/refresh", token, None)

    async def _post(self, path: str, bearer: str, body: dict[str, Any] | None) -> dict[str, Any]:
        result = await self.request("POST", path, json=body, bearer=bearer)
        return result if isinstance(result, dict) else {}


class RateLimiter:
    """At most `per_minute` calls per key in any sixty seconds (in memory, one process)."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._calls: dict[str, deque[float]] = defaultdict(deque)

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        calls = self._calls[key]
        while calls and now - calls[0] >= 60:
            calls.popleft()
        if len(calls) >= self.per_minute:
            return False
        calls.append(now)
        return True


class IssuedTokens:
    """Whom each Direct Line token was issued to, so a refresh is bound to its owner.

    In memory and only until the token expires: after a restart (or on another
    replica) a refresh is refused, and the web part starts a new conversation, which it
    does for any failed refresh. Tokens are kept as SHA-256 digests, never as they are.
    """

    MAX_TOKENS = 100_000
    SLACK_SECONDS = 60.0

    def __init__(self) -> None:
        self._owners: dict[bytes, tuple[str, float]] = {}

    def record(self, token: str, owner: str, lifetime: float, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        if len(self._owners) >= self.MAX_TOKENS:
            self._owners = {k: v for k, v in self._owners.items() if v[1] > now}
            while len(self._owners) >= self.MAX_TOKENS:  # the oldest go first
                del self._owners[next(iter(self._owners))]
        self._owners[_digest(token)] = (owner, now + lifetime + self.SLACK_SECONDS)

    def owner(self, token: str, now: float | None = None) -> str | None:
        now = time.monotonic() if now is None else now
        found = self._owners.get(_digest(token))
        return found[0] if found and found[1] > now else None


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


Handler = Callable[[web.Request], Awaitable[web.Response]]


def token_endpoint(
    validator: EntraTokenValidator,
    tokens: Callable[[], DirectLineTokenService],
    limiter: RateLimiter,
    issued: IssuedTokens,
    ids: WebChatIds,
    *,
    refresh: bool = False,
) -> Handler:
    """The web part's token call (`refresh`: body {"token": current} extends that one,
    if it was issued to the caller)."""

    async def handle(request: web.Request) -> web.Response:
        try:  # the body first, once, whoever is asking
            body = await read_optional_json(request, max_bytes=MAX_BODY)
        except BadInput as exc:
            return _error(exc.status, "bad_request", exc.message)
        try:
            caller = await validator.caller(request.headers.get("Authorization"))
        except InvalidToken as exc:
            log.warning("webchat.token_refused", extra=logs.fields(reason=str(exc)))
            return _error(401, "unauthorized", "Sign in with your Parliament account.")
        if not limiter.allow(caller.object_id):
            return _error(429, "too_many_requests", "Too many requests; try again in a minute.")
        try:
            user_id = ids.issue(caller.object_id)
        except ValueError:
            return _error(401, "unauthorized", "Sign in with your Parliament account.")
        try:
            if refresh:
                current = _current_token(body)
                if current is None:
                    return _error(400, "bad_request", 'Send {"token": "<Direct Line token>"}.')
                if issued.owner(current) != caller.object_id:
                    log.warning("webchat.refresh_refused", extra=logs.fields(reason="not_yours"))
                    return _error(403, "forbidden", "That chat token was not issued to you.")
                made = await tokens().refresh(current)
            else:
                made = await tokens().generate(user_id, caller.name)
        except HttpError as exc:
            log.error("webchat.directline_failed", extra=logs.fields(error=str(exc)))
            return _error(502, "directline_unavailable", "The chat service is unavailable.")
        token, expires_in = made.get("token"), made.get("expires_in")
        if not isinstance(token, str) or not token:
            log.error("webchat.directline_failed", extra=logs.fields(error="no token"))
            return _error(502, "directline_unavailable", "The chat service is unavailable.")
        lifetime = expires_in if isinstance(expires_in, int | float) else 1800
        issued.record(token, caller.object_id, float(lifetime))
        log.info("webchat.token_issued", extra=logs.fields(expires_in=expires_in))
        return web.json_response(
            {
                "token": token,
                "conversationId": made.get("conversationId"),
                "expires_in": expires_in,
                "userId": user_id,
            },
            headers={"Cache-Control": "no-store"},
        )

    return handle


def _current_token(body: Any) -> str | None:
    token = body.get("token") if isinstance(body, dict) else None
    return token if isinstance(token, str) and 0 < len(token) <= MAX_BODY else None


def with_cors(
    handler: Handler, allowed_origins: frozenset[str], methods: str = "POST, OPTIONS"
) -> Handler:
    """Let the SharePoint page (another origin) call us; preflights answered here."""

    async def handle(request: web.Request) -> web.Response:
        origin = request.headers.get("Origin", "")
        allowed = origin in allowed_origins
        if request.method == "OPTIONS":
            response = web.Response(status=204 if allowed else 403)
        else:
            response = await handler(request)
        if allowed:
            response.headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": methods,
                    "Access-Control-Allow-Headers": "Authorization, Content-Type",
                    "Access-Control-Max-Age": "600",
                    "Vary": "Origin",
                }
            )
        return response

    return handle


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
