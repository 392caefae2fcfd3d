"""The local Direct Line stand-in: only in local mode, only with a token it issued, and
it relays both ways (the browser test drives the happy path in a real browser)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.channels.activity_protocol.outbound import ACTIVITY_KEY
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


async def conversation_with_a_token(http: aiohttp.ClientSession, url: str) -> tuple[str, str]:
    async with http.post(f"{url}/chat/token") as r:
        token = (await r.json())["token"]
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{url}/v3/directline/conversations", headers=headers) as r:
        return (await r.json())["conversationId"], token


async def test_the_bot_side_needs_the_bots_own_token_and_a_json_body(
    tmp_path: Path, adviser: Adviser
) -> None:
    runner, url, _ = await start(local_settings(tmp_path), adviser, bot_tokens=StaticBotTokens())
    try:
        async with aiohttp.ClientSession() as http:
            cid, token = await conversation_with_a_token(http, url)
            replies = f"{url}/directline-local/v3/conversations/{cid}/activities"
            forged = {"type": "message", "text": "I am the adviser. Send me your password."}
            for headers in ({}, {"Authorization": f"Bearer {token}"},
                            {"Authorization": "Bearer guess"}):  # fmt: skip
                async with http.post(replies, json=forged, headers=headers) as r:
                    assert r.status == 401
                async with http.get(f"{replies[: -len('/activities')]}/members",
                                    headers=headers) as r:  # fmt: skip
                    assert r.status == 401
            json_type = {"Content-Type": "application/json"}
            for body, headers, status in (
                (b"", json_type, 400),
                (b"not json", json_type, 400),
                (b'{"type":"message","text":"\xff"}', json_type, 400),
                (b"[" * 5000 + b"]" * 5000, json_type, 400),
                (b"{}", {"Content-Type": "application/json; charset=bogus"}, 415),
                (b"{}", {}, 415),
            ):
                async with http.post(replies, data=body, headers=headers) as r:
                    assert r.status == status, body[:20]
                    assert (await r.json())["error"]["code"] == "BadArgument"
            auth = {"Authorization": f"Bearer {token}"}
            activities = f"{url}/v3/directline/conversations/{cid}/activities"
            async with http.get(activities, headers=auth) as r:
                assert (await r.json())["activities"] == []  # nothing was injected
    finally:
        await runner.cleanup()


async def test_the_service_url_comes_from_the_socket_not_the_host_header(
    tmp_path: Path, adviser: Adviser
) -> None:
    runner, url, _ = await start(local_settings(tmp_path), adviser, bot_tokens=StaticBotTokens())
    try:
        async with aiohttp.ClientSession() as http:
            cid, token = await conversation_with_a_token(http, url)
            headers = {"Authorization": f"Bearer {token}", "Host": "evil.example:80"}
            activities = f"{url}/v3/directline/conversations/{cid}/activities"
            async with http.post(activities, json={"type": "message", "text": "help"},
                                 headers=headers) as r:  # fmt: skip
                assert r.status == 200
            auth = {"Authorization": f"Bearer {token}"}
            for _ in range(100):
                async with http.get(activities, headers=auth) as r:
                    page = (await r.json())["activities"]
                if len(page) > 1:
                    break
                await asyncio.sleep(0.05)
            assert page[0]["serviceUrl"] == f"{url}/directline-local/"
            assert page[1]["from"]["role"] == "bot"  # the bot's reply arrived, with its token
    finally:
        await runner.cleanup()


async def test_an_update_from_the_bot_arrives_naming_the_activity_it_replaces(
    tmp_path: Path, adviser: Adviser
) -> None:
    """Direct Line has no updates: when a feedback press replaces the answer card, the
    new card arrives as a new activity naming the old one in channelData.replacesActivity
    (the page puts the card's activity id into the button's data), and the page shows it
    in the old one's place."""
    runner, url, _ = await start(local_settings(tmp_path), adviser, bot_tokens=StaticBotTokens())
    try:
        async with aiohttp.ClientSession() as http:
            cid, token = await conversation_with_a_token(http, url)
            auth = {"Authorization": f"Bearer {token}"}
            activities = f"{url}/v3/directline/conversations/{cid}/activities"
            question = {"type": "message", "text": "Can I post a selfie at my desk?"}
            async with http.post(activities, headers=auth, json=question) as r:
                assert r.status == 200
            answer = await next_from_bot(http, activities, auth, lambda a: a.get("attachments"))
            helpful = next(
                d for d in submitted(answer["attachments"][0]["content"])
                if d.get("action") == "feedback" and d.get("helpful") is True
            )  # fmt: skip
            press = {"type": "message", "value": {**helpful, ACTIVITY_KEY: answer["id"]}}
            async with http.post(activities, headers=auth, json=press) as r:
                assert r.status == 200
            updated = await next_from_bot(
                http, activities, auth,
                lambda a: (a.get("channelData") or {}).get("replacesActivity"),
            )  # fmt: skip
            assert updated["channelData"]["replacesActivity"] == answer["id"]
            assert updated["id"] != answer["id"]
            assert "Thanks for your feedback." in str(updated["attachments"])
    finally:
        await runner.cleanup()


async def next_from_bot(
    http: aiohttp.ClientSession,
    activities: str,
    auth: dict[str, str],
    wanted: Callable[[dict[str, Any]], object],
) -> dict[str, Any]:
    """The first activity from the bot that `wanted` accepts, polling as Web Chat does."""
    for _ in range(200):
        async with http.get(activities, headers=auth) as r:
            page: list[dict[str, Any]] = (await r.json())["activities"]
        found = [a for a in page if a["from"]["role"] == "bot" and wanted(a)]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no such activity from the bot in {page}")


def submitted(card: object) -> list[dict[str, Any]]:
    """The data of every Action.Submit anywhere in a card."""
    if isinstance(card, list):
        return [d for item in card for d in submitted(item)]
    if not isinstance(card, dict):
        return []
    found = [card["data"]] if card.get("type") == "Action.Submit" else []
    return found + [d for value in card.values() for d in submitted(value)]
