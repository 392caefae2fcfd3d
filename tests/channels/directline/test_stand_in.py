"""The local Direct Line stand-in: only in local mode, only with a token it issued, and
it relays both ways (the browser test drives the happy path in a real browser)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from bot.core import Adviser
from bot.fakes.tokens import StaticBotTokens
from tests.channels.conftest import local_settings, start

pytestmark = pytest.mark.usefixtures("bot_sdk")  # every test runs once per Bot SDK


async def test_a_conversation_needs_a_token_from_chat_token_and_relays_to_the_bot(
    tmp_path: Path, adviser: Adviser
) -> None:
    runner, url, _ = await start(local_settings(tmp_path), adviser, bot_tokens=StaticBotTokens())
    base = f"{url}/v3/directline"
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                f"{base}/conversations", headers={"Authorization": "Bearer x"}
            ) as r:
                assert r.status == 403
            async with http.post(f"{url}/chat/token") as r:
                issued = await r.json()
            assert issued["userId"].startswith("dl_local-")
            auth = {"Authorization": f"Bearer {issued['token']}"}
            async with http.post(f"{base}/conversations", headers=auth) as r:
                assert r.status == 201
                cid = (await r.json())["conversationId"]
            activities = f"{base}/conversations/{cid}/activities"
            async with http.post(activities, headers={"Authorization": "Bearer wrong"},
                                 json={"type": "message", "text": "hi"}) as r:  # fmt: skip
                assert r.status == 403
            async with http.post(activities, headers=auth, json=["not", "an", "activity"]) as r:
                assert r.status == 400
            message = {"type": "message", "text": "Can I post a selfie at my desk?",
                       "channelData": {"clientActivityID": "c-1"}}  # fmt: skip
            async with http.post(activities, headers=auth, json=message) as r:
                assert r.status == 200
            for _ in range(100):
                async with http.get(activities, headers=auth, params={"watermark": "1"}) as r:
                    page = await r.json()
                if any(a.get("attachments") for a in page["activities"]):
                    break
                await asyncio.sleep(0.05)
            answer = next(a for a in page["activities"] if a.get("attachments"))
            assert answer["from"]["role"] == "bot"
            assert (
                answer["attachments"][0]["contentType"] == "application/vnd.microsoft.card.adaptive"
            )
            async with http.get(activities, headers=auth, params={"watermark": "0"}) as r:
                echoed = (await r.json())["activities"][0]
            assert echoed["channelData"] == {"clientActivityID": "c-1"}
            assert echoed["from"]["id"] == issued["userId"]
    finally:
        await runner.cleanup()


async def test_not_mounted_when_an_app_id_is_configured(tmp_path: Path, adviser: Adviser) -> None:
    settings = local_settings(
        tmp_path,
        MicrosoftAppId="00000000-aaaa-4bbb-8ccc-000000000007",
        MicrosoftAppPassword="pw",
        MicrosoftAppTenantId="contoso.onmicrosoft.com",
        CARD_SIGNING_KEY="k" * 32,
    )
    runner, url, _ = await start(settings, adviser, bot_tokens=StaticBotTokens())
    try:
        async with aiohttp.ClientSession() as http:
            for method, path in (("GET", "/chat"), ("POST", "/chat/token"),
                                 ("POST", "/v3/directline/conversations")):  # fmt: skip
                async with http.request(method, f"{url}{path}") as r:
                    assert r.status in (404, 405), path
    finally:
        await runner.cleanup()


async def test_an_update_from_the_bot_arrives_naming_the_activity_it_replaces(
    tmp_path: Path, adviser: Adviser
) -> None:
    """Direct Line has no updates: a PUT becomes a new activity with
    channelData.replacesActivity, which the page shows in the old one's place."""
    runner, url, _ = await start(local_settings(tmp_path), adviser, bot_tokens=StaticBotTokens())
    try:
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/chat/token") as r:
                issued = await r.json()
            auth = {"Authorization": f"Bearer {issued['token']}"}
            async with http.post(f"{url}/v3/directline/conversations", headers=auth) as r:
                cid = (await r.json())["conversationId"]
            bot = f"{url}/directline-local/v3/conversations/{cid}/activities"
            card = {"type": "message", "text": "first", "channelData": {"kept": 1}}
            async with http.post(bot, json=card) as r:
                first = (await r.json())["id"]
            async with http.put(f"{bot}/{first}", json={**card, "text": "second"}) as r:
                assert r.status == 201
            since = f"{url}/v3/directline/conversations/{cid}/activities"
            async with http.get(since, headers=auth) as r:
                shown = (await r.json())["activities"]
            updated = next(a for a in shown if a.get("text") == "second")
            assert updated["channelData"] == {"kept": 1, "replacesActivity": first}
            assert updated["id"] != first
    finally:
        await runner.cleanup()
