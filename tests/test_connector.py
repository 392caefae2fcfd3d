"""Our Bot Connector client against the fake connector: encoding, errors, retries."""

from __future__ import annotations

import aiohttp
import pytest

from bot.connector import BotConnectorClient
from bot.fakes.connector import FakeConnector
from bot.http import RetryPolicy, ServiceError

FAST = RetryPolicy(attempts=3, base_delay=0.01, max_delay=0.05)


async def token() -> str:
    return "tok"


async def test_reply_url_encodes_teams_ids_and_sends_the_token() -> None:
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        client = BotConnectorClient(http, token, FAST)
        new_id = await client.send(
            connector.service_url, "a:1x;messageid=9", {"type": "message"}, reply_to="1:2;3"
        )
        [sent] = connector.sent
    assert new_id.startswith("activity-")
    assert (sent.conversation_id, sent.reply_to_id) == ("a:1x;messageid=9", "1:2;3")
    assert sent.authorization == "Bearer tok"


async def test_429_is_retried_after_the_servers_retry_after() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # records the waits instead of spending them
        waits.append(seconds)

    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        connector.fail_next(429, times=2, retry_after=1)
        retry = RetryPolicy(attempts=4, base_delay=0.01, max_delay=5, sleep=sleep)
        client = BotConnectorClient(http, token, retry)
        await client.send(connector.service_url, "c1", {"type": "message"})
    assert len(connector.sent) == 1
    assert waits == [1.0, 1.0], "two Retry-After: 1 waits, no more"


async def test_retries_give_up_with_a_typed_error_and_4xx_is_not_retried() -> None:
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        client = BotConnectorClient(http, token, FAST)
        connector.fail_next(503, times=3)
        with pytest.raises(ServiceError) as failure:
            await client.send(connector.service_url, "c1", {"type": "message"})
        assert failure.value.status == 503
        connector.fail_next(403, times=1)
        with pytest.raises(ServiceError) as forbidden:
            await client.send(connector.service_url, "c1", {"type": "message"})
        assert forbidden.value.status == 403
        await client.send(connector.service_url, "c1", {"type": "message"})
    assert len(connector.sent) == 1, "the 403 was not retried; the next send went through"
