"""The fake connector itself: it must route reply URLs with encoded Teams ids exactly."""

from __future__ import annotations

from urllib.parse import quote

import aiohttp

from bot.fakes.connector import FakeConnector, Member


async def test_reply_with_encoded_teams_ids_is_recorded() -> None:
    conversation = "a:1Xyz;messageid=123"
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        url = (
            f"{connector.service_url}v3/conversations/{quote(conversation, safe='')}"
            f"/activities/{quote('1:abc', safe='')}"
        )
        async with http.post(url, json={"type": "message", "text": "hi"}) as response:
            assert response.status == 201
            assert (await response.json())["id"].startswith("activity-")
        sent = await connector.wait_for(1)
    assert sent[0].conversation_id == conversation
    assert sent[0].reply_to_id == "1:abc"
    assert sent[0].activity["text"] == "hi"


async def test_queued_429_carries_retry_after_then_succeeds() -> None:
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        connector.fail_next(429, retry_after=2)
        url = f"{connector.service_url}v3/conversations/c1/activities"
        async with http.post(url, json={"type": "message"}) as response:
            assert response.status == 429
            assert response.headers["Retry-After"] == "2"
            assert (await response.json())["error"]["code"] == "ServiceError"
        async with http.post(url, json={"type": "message"}) as response:
            assert response.status == 201
    assert len(connector.sent) == 1


async def test_members_and_new_conversations() -> None:
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        connector.members["team-1"] = [Member("29:u1", "Ada", "aad-1")]
        base = f"{connector.service_url}v3/conversations"
        async with http.get(f"{base}/team-1/members/aad-1") as response:
            assert (await response.json())["name"] == "Ada"
        async with http.get(f"{base}/team-1/members/nobody") as response:
            assert response.status == 404
        async with http.post(base, json={"members": [{"id": "29:u1"}]}) as response:
            assert response.status == 201
            assert (await response.json())["id"].startswith("a:fake-conversation-")
