"""The HTTP edge: status codes for bad requests, and real JWT checks when an app id is set."""

from __future__ import annotations

import asyncio
import queue
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.clock import FakeClock
from bot.core import Adviser
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.channel_issuer import ISSUER, ChannelIssuer
from bot.fakes.connector import FakeConnector
from bot.fakes.tokens import StaticBotTokens
from bot.settings import AppType
from tests.channels.conftest import Running, local_settings, start

pytestmark = pytest.mark.usefixtures("bot_sdk")  # every test runs once per Bot SDK

APP_ID = "00000000-aaaa-4bbb-8ccc-000000000042"


async def test_malformed_bodies_get_clear_4xx(running: Running) -> None:
    url = f"{running.url}/api/messages"
    cases: list[tuple[dict[str, Any], int]] = [
        ({"data": b"{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": ["a", "list"]}, 400),
        ({"json": {"text": "no type"}}, 400),
        ({"json": {"type": "message", "text": "no conversation"}}, 400),
        ({"data": b"hello", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"data": b"x" * 300_000, "headers": {"Content-Type": "application/json"}}, 413),
    ]
    for kwargs, status in cases:
        async with running.http.post(url, **kwargs) as response:
            assert response.status == status, kwargs
            if status != 413:
                assert "error" in await response.json()
    assert running.connector.sent == []


def invoke(name: str, value: Any, service_url: str) -> dict[str, Any]:
    return {"type": "invoke", "name": name, "value": value, "channelId": "msteams",
            "serviceUrl": service_url, "conversation": {"id": "c1"}, "from": {"id": "u1"},
            "recipient": {"id": "b1"}}  # fmt: skip


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{}", "application/json; charset=bogus", 415),
        (b"{}", "application/json; charset=base64", 415),
        (b"{}", "application/json; charset=utf-7", 415),
        (b"[" * 10_000 + b"]" * 10_000, "application/json", 400),
        (b'{"type":"message","id":' + b"1" * 4301 + b"}", "application/json", 400),
        (b"", "application/json", 400),
        (
            b'{"type":"message","serviceUrl":"http://127.0.0.1:9/","conversation":{"id":"c"},'
            b'"text":"\\ud800"}',
            "application/json",
            400,
        ),
    ],
    ids=[
        "charset-bogus",
        "charset-base64",
        "charset-utf7",
        "deep",
        "huge-int",
        "empty",
        "surrogate",
    ],
)
async def test_issue_15_reproducers_get_a_4xx(
    running: Running, body: bytes, content_type: str, status: int
) -> None:
    headers = {"Content-Type": content_type}
    async with running.http.post(f"{running.url}/api/messages", data=body, headers=headers) as r:
        assert r.status == status
        assert "error" in await r.json()
    assert running.connector.sent == []


@pytest.mark.parametrize(
    "value",
    [None, {}, {"action": None}, {"action": {"type": "Action.Submit", "data": {}}}, [1, 2]],
    ids=["null", "empty", "no-action", "submit", "list"],
)
async def test_a_malformed_card_action_invoke_gets_a_400_invoke_response(
    running: Running, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    activity = invoke("adaptiveCard/action", value, running.connector.service_url)
    async with running.http.post(f"{running.url}/api/messages", json=activity) as r:
        assert r.status == 400
        body = await r.json()
    assert body["statusCode"] == 400
    assert body["type"] == "application/vnd.microsoft.error"
    assert body["value"]["code"] == "BadRequest"
    assert running.connector.sent == []  # no apology
    assert not [r for r in caplog.records if r.getMessage() == "turn.failed"]


@pytest.mark.parametrize("value", [None, [1, 2], {"a": 1}])
@pytest.mark.parametrize("name", ["no/such/invoke", "composeExtension/query", "task/fetch", ""])
async def test_unknown_invokes_get_a_400_invoke_response_and_no_apology(
    running: Running, name: str, value: Any, caplog: pytest.LogCaptureFixture
) -> None:
    activity = invoke(name, value, running.connector.service_url)
    async with running.http.post(f"{running.url}/api/messages", json=activity) as r:
        assert r.status == 400
        body = await r.json()
    if name:  # an empty name is refused as a malformed activity by the Agents SDK
        assert body["value"]["code"] == "NotSupported"
    assert running.connector.sent == []
    assert not [r for r in caplog.records if r.getMessage() == "turn.failed"]


async def test_a_service_url_pointing_back_at_the_bot_is_refused(running: Running) -> None:
    for service_url in (f"{running.url}/api/messages?x=", f"{running.url}/",
                        running.url.replace("127.0.0.1", "localhost") + "/"):  # fmt: skip
        activity = activities.message("hello", TeamsUser(), service_url)
        response = await running.post(activity)
        assert response.status == 400, service_url
    assert running.connector.sent == []


async def test_healthz_reports_knowledge_and_policy_version(running: Running) -> None:
    async with running.http.get(f"{running.url}/healthz") as response:
        body = await response.json()
    assert body["status"] == "ok"
    assert body["knowledge_entries"] >= 80
    assert body["policy_version"].startswith("sha256:")


@pytest.fixture
def issuer() -> Iterator[ChannelIssuer]:
    issuer = ChannelIssuer().start()
    yield issuer
    issuer.stop()


@asynccontextmanager
async def secured_server(
    tmp_path: Path, adviser: Adviser, issuer: ChannelIssuer
) -> AsyncIterator[Running]:
    settings = local_settings(
        tmp_path,
        MicrosoftAppId=APP_ID,
        MicrosoftAppPassword="not-a-real-secret",
        MicrosoftAppType=AppType.MULTI_TENANT.value,
        BOT_CHANNEL_OPENID_METADATA_URL=issuer.metadata_url,
        BOT_CHANNEL_TOKEN_ISSUER=ISSUER,
        CARD_SIGNING_KEY="s" * 32,
    )
    tokens = StaticBotTokens("outbound-token")
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        runner, url, app = await start(settings, adviser, bot_tokens=tokens)
        try:
            yield Running(url, app, connector, http, FakeClock(), tokens)
        finally:
            await runner.cleanup()


@pytest.fixture
async def secured(
    tmp_path: Path, adviser: Adviser, issuer: ChannelIssuer
) -> AsyncIterator[Running]:
    async with secured_server(tmp_path, adviser, issuer) as running:
        yield running


async def test_a_bad_charset_is_refused_before_any_token_is_looked_at(secured: Running) -> None:
    headers = {"Content-Type": "application/json; charset=bogus", "Authorization": "Bearer x"}
    async with secured.http.post(f"{secured.url}/api/messages", data=b"{}", headers=headers) as r:
        assert r.status == 415


async def test_no_token_is_401_and_nothing_runs(secured: Running) -> None:
    activity = activities.message("hi", TeamsUser(), secured.connector.service_url)
    response = await secured.post(activity)
    assert response.status == 401
    assert secured.connector.sent == []


async def test_valid_channel_token_is_accepted_and_reply_carries_bot_token(
    secured: Running, issuer: ChannelIssuer
) -> None:
    service_url = secured.connector.service_url
    activity = activities.message("Can I post a selfie at my desk?", TeamsUser(), service_url)
    token = issuer.token(APP_ID, service_url)
    response = await secured.post(activity, Authorization=f"Bearer {token}")
    assert response.status == 201
    [reply] = await secured.connector.wait_for(1)
    assert reply.authorization == "Bearer outbound-token"
    assert secured.tokens.calls >= 1


@pytest.mark.parametrize("problem", ["expired", "audience", "issuer", "key", "service_url"])
async def test_bad_tokens_are_401(secured: Running, issuer: ChannelIssuer, problem: str) -> None:
    service_url = secured.connector.service_url
    activity = activities.message("hi", TeamsUser(), service_url)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = {
        "expired": lambda: issuer.token(APP_ID, service_url, lifetime=-3600),
        "audience": lambda: issuer.token("someone-else", service_url),
        "issuer": lambda: issuer.token(APP_ID, service_url, issuer="https://evil.example"),
        "key": lambda: issuer.token(APP_ID, service_url, key=stranger),
        "service_url": lambda: issuer.token(APP_ID, "https://elsewhere.example/"),
    }[problem]()
    response = await secured.post(activity, Authorization=f"Bearer {token}")
    assert response.status == 401
    assert secured.connector.sent == []


async def test_a_key_that_does_not_endorse_the_channel_is_401(
    secured: Running, issuer: ChannelIssuer
) -> None:
    url = secured.connector.service_url
    slack = {**activities.message("hi", TeamsUser(), url), "channelId": "slack"}  # key: msteams
    response = await secured.post(slack, Authorization=f"Bearer {issuer.token(APP_ID, url)}")
    assert (response.status, secured.connector.sent) == (401, [])


async def test_signing_keys_are_fetched_at_start_off_the_event_loop(
    tmp_path: Path, adviser: Adviser, issuer: ChannelIssuer
) -> None:
    """The issuer holds the fetch of its metadata open until /healthz has been answered,
    from a thread of the test's own: a fetch on the event loop would stop the server
    answering (or starting) until the fetch ends, and /healthz would not come back."""
    asked, release = issuer.hold_metadata()
    serving: queue.Queue[str] = queue.Queue()
    seen: list[object] = []

    def meanwhile() -> None:
        try:
            if not asked.wait(60):
                seen.append("the server never asked for the channel's metadata")
                return
            try:
                url = serving.get(timeout=30)
            except queue.Empty:
                seen.append("the server did not start while the fetch was held")
                return
            with urllib.request.urlopen(f"{url}/healthz", timeout=30) as r:
                seen.append(r.status)
        except OSError as exc:
            seen.append(f"/healthz did not answer while the fetch was held: {exc!r}")
        finally:
            release.set()

    helper = threading.Thread(target=meanwhile, daemon=True)
    helper.start()
    try:
        async with secured_server(tmp_path, adviser, issuer) as running:
            serving.put(running.url)
            await asyncio.to_thread(helper.join)
            assert seen == [200]
            # Once released, the keys fetched at start are the ones in use.
            url = running.connector.service_url
            activity = activities.message("hi", TeamsUser(), url)
            token = issuer.token(APP_ID, url)
            response = await running.post(activity, Authorization=f"Bearer {token}")
            assert response.status == 201
    finally:
        release.set()
