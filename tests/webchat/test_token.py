"""`POST /api/directline/token` over HTTP: Entra tokens checked against published keys
(a local key server), Direct Line tokens from a local fake of the token service."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.channels.directline.identity import WebChatIds
from bot.core import Adviser
from bot.fakes.channel_issuer import ChannelIssuer
from bot.fakes.directline import FakeDirectLine
from bot.fakes.tokens import StaticBotTokens
from bot.webchat.token import IssuedTokens, RateLimiter
from tests.channels.conftest import local_settings, start

SECRET = "directline-secret-value-never-shown"
AUDIENCE = "api://adviser.example.org/11111111-2222-3333-4444-555555555555"
ISSUER = "https://login.microsoftonline.com/tenant-1/v2.0"
V1_ISSUER, V1_AUDIENCE = "https://sts.windows.net/tenant-1/", "11111111-2222-3333-4444-555555555555"
SIGNING_KEY = "w" * 40
IDS = WebChatIds(SIGNING_KEY.encode())


@dataclass
class Chat:
    url: str
    http: aiohttp.ClientSession
    keys: ChannelIssuer
    directline: FakeDirectLine

    def entra_token(self, **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "oid": "aad-morag", "name": "Morag Stewart",
                  "iat": now - 5, "nbf": now - 5, "exp": now + 3600, **changes}  # fmt: skip
        claims = {k: v for k, v in claims.items() if v is not None}
        return jwt.encode(claims, self.keys.key, algorithm="RS256", headers={"kid": self.keys.kid})

    async def ask(
        self, token: str | None, path: str = "/api/directline/token", body: Any = None
    ) -> tuple[int, dict[str, Any], str]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(f"{self.url}{path}", headers=headers, json=body) as r:
            text = await r.text()
            return r.status, await r.json(content_type=None), text


@pytest.fixture
async def chat(tmp_path: Path, adviser: Adviser) -> AsyncIterator[Chat]:
    keys = ChannelIssuer().start()
    try:
        async with FakeDirectLine(SECRET) as directline, aiohttp.ClientSession() as http:
            settings = local_settings(
                tmp_path,
                DIRECTLINE_SECRET=SECRET,
                DIRECTLINE_ENDPOINT=directline.endpoint,
                WEBCHAT_API_AUDIENCE=f"{AUDIENCE}, {V1_AUDIENCE}",
                WEBCHAT_TOKEN_ISSUER=f"{ISSUER},{V1_ISSUER}",
                WEBCHAT_JWKS_URL=f"{keys.base_url}/v1/.well-known/keys",
                WEBCHAT_TOKENS_PER_MINUTE="3",
                WEBCHAT_ALLOWED_ORIGINS="https://parliament.sharepoint.com",
                CARD_SIGNING_KEY=SIGNING_KEY,
            )
            runner, url, _ = await start(settings, adviser, bot_tokens=StaticBotTokens())
            try:
                yield Chat(url, http, keys, directline)
            finally:
                await runner.cleanup()
    finally:
        keys.stop()


async def test_a_valid_entra_token_gets_a_direct_line_token_bound_to_the_user(chat: Chat) -> None:
    status, body, text = await chat.ask(chat.entra_token())
    assert status == 200
    assert body["token"] == "dl-token-1"
    # The user id is signed by the bot, so it can tell it from one a client made up.
    assert body["userId"] == IDS.issue("aad-morag")
    assert IDS.verify(body["userId"]) == "aad-morag"
    assert chat.directline.issued[0]["user"] == {"id": body["userId"], "name": "Morag Stewart"}
    assert SECRET not in text


async def test_v1_tokens_are_accepted_too_when_configured(chat: Chat) -> None:
    status, body, _ = await chat.ask(chat.entra_token(iss=V1_ISSUER, aud=V1_AUDIENCE))
    assert (status, body["userId"]) == (200, IDS.issue("aad-morag"))


@pytest.mark.parametrize(
    "change",
    [
        {"exp": int(time.time()) - 60},
        {"aud": "api://someone-else"},
        {"iss": "https://login.microsoftonline.com/other-tenant/v2.0"},
        {"oid": None},
    ],
    ids=["expired", "wrong-audience", "wrong-issuer", "no-object-id"],
)
async def test_bad_tokens_are_401_and_no_direct_line_token_is_made(
    chat: Chat, change: dict[str, Any]
) -> None:
    status, body, text = await chat.ask(chat.entra_token(**change))
    assert status == 401
    assert body["error"]["code"] == "unauthorized"
    assert chat.directline.issued == []
    assert SECRET not in text


async def test_missing_and_forged_tokens_are_401(chat: Chat) -> None:
    assert (await chat.ask(None))[0] == 401
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = int(time.time())
    forged = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "oid": "aad-x", "exp": now + 600},
        other_key,
        algorithm="RS256",
        headers={"kid": chat.keys.kid},
    )
    assert (await chat.ask(forged))[0] == 401
    assert (await chat.ask("not.a.jwt"))[0] == 401


async def test_each_user_is_rate_limited(chat: Chat) -> None:
    token = chat.entra_token()
    statuses = [(await chat.ask(token))[0] for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    other = chat.entra_token(oid="aad-someone-else")
    assert (await chat.ask(other))[0] == 200


def test_rate_limit_window_slides() -> None:
    limiter = RateLimiter(per_minute=2)
    assert limiter.allow("u", now=0)
    assert limiter.allow("u", now=1)
    assert not limiter.allow("u", now=59)
    assert limiter.allow("u", now=60.5)


async def test_refresh_extends_the_direct_line_token(chat: Chat) -> None:
    entra = chat.entra_token()
    _, first, _ = await chat.ask(entra)
    status, body, text = await chat.ask(
        entra, "/api/directline/token/refresh", {"token": first["token"]}
    )
    assert status == 200
    assert (body["token"], body["conversationId"]) == ("dl-token-1-r", "dl-conv-1")
    assert SECRET not in text
    assert (await chat.ask(None, "/api/directline/token/refresh", {"token": "x"}))[0] == 401
    assert (await chat.ask(entra, "/api/directline/token/refresh", {"nope": 1}))[0] == 400


async def test_a_token_can_be_refreshed_only_by_the_person_it_was_issued_to(chat: Chat) -> None:
    morag, other = chat.entra_token(), chat.entra_token(oid="aad-other")
    _, first, _ = await chat.ask(morag)
    refresh = "/api/directline/token/refresh"
    for token in (first["token"], "forged", "dl-token-1-r"):
        status, body, _ = await chat.ask(other, refresh, {"token": token})
        assert (status, body["error"]["code"]) == (403, "forbidden"), token
    assert len(chat.directline.issued) == 1  # Direct Line was never asked
    status, body, _ = await chat.ask(morag, refresh, {"token": first["token"]})
    assert status == 200
    status, _, _ = await chat.ask(morag, refresh, {"token": body["token"]})  # and again
    assert status == 200


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        (b"{}", "application/json; charset=bogus", 415),
        (b"[" * 2_000 + b"]" * 2_000, "application/json", 400),
        (b'{"token": ' + b"1" * 4_301 + b"}", "application/json", 400),
        (b'{"token": "\\ud800"}', "application/json", 400),
        (b"\xff", "application/json", 400),
        (b"x" * 20_000, "application/json", 413),
    ],
)
async def test_hostile_bodies_get_a_4xx_before_any_token_is_checked(
    chat: Chat, data: bytes, content_type: str, status: int
) -> None:
    for path in ("/api/directline/token", "/api/directline/token/refresh"):
        headers = {"Content-Type": content_type, "Authorization": "Bearer anything"}
        async with chat.http.post(f"{chat.url}{path}", data=data, headers=headers) as r:
            assert r.status == status, path
    assert chat.directline.issued == []


async def test_sharepoint_origin_may_call_and_others_may_not(chat: Chat) -> None:
    preflight = {
        "Origin": "https://parliament.sharepoint.com",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type",
    }
    async with chat.http.options(f"{chat.url}/api/directline/token", headers=preflight) as r:
        assert r.status == 204
        assert r.headers["Access-Control-Allow-Origin"] == "https://parliament.sharepoint.com"
        assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
    evil = {**preflight, "Origin": "https://evil.example"}
    async with chat.http.options(f"{chat.url}/api/directline/token", headers=evil) as r:
        assert r.status == 403
        assert "Access-Control-Allow-Origin" not in r.headers


def test_issued_tokens_are_forgotten_when_they_expire() -> None:
    issued = IssuedTokens()
    issued.record("t", "aad-1", lifetime=1800, now=0)
    assert issued.owner("t", now=1800) == "aad-1"
    assert issued.owner("t", now=1800 + IssuedTokens.SLACK_SECONDS + 1) is None
    assert issued.owner("other", now=0) is None
