"""The real Graph client and real msal against the local fakes, over HTTP(S)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace

import aiohttp
import pytest

from bot.fakes.graph import FakeGraph, FakeUser
from bot.fakes.identity import FakeIdentity
from bot.graph.client import RETRY, ActivityNotice, GraphClient
from bot.graph.tokens import MsalGraphTokens, TokenError
from bot.http import ServiceError

CLIENT, SECRET = "app-1", "s3cret-value"


@pytest.fixture
async def graph() -> AsyncIterator[tuple[FakeGraph, FakeIdentity, GraphClient, MsalGraphTokens]]:
    async with FakeIdentity(CLIENT, SECRET) as identity, FakeGraph() as fake:
        tokens = MsalGraphTokens(
            client_id=CLIENT,
            tenant_id=identity.tenant,
            authority_host=identity.authority_host,
            secret=SECRET,
            verify=identity.ca_path,
        )
        async with aiohttp.ClientSession() as http:
            yield fake, identity, GraphClient(http, fake.base_url, tokens.token), tokens


async def test_manager_lookup_with_a_real_msal_token(graph) -> None:  # type: ignore[no-untyped-def]
    fake, identity, client, _ = graph
    fake.add(FakeUser("boss", "Alex Boss", "alex@example.org"))
    fake.add(FakeUser("u1", "Morag", "morag@example.org", manager="boss"))
    manager = await client.manager("u1")
    assert manager is not None
    assert (manager.id, manager.name) == ("boss", "Alex Boss")
    await client.manager("u1")
    assert len(identity.token_requests) == 1, "msal's cache is reused"
    assert identity.token_requests[0]["grant_type"] == "client_credentials"


async def test_no_manager_is_none_and_forbidden_falls_back_to_expand(graph) -> None:  # type: ignore[no-untyped-def]
    fake, _, client, _ = graph
    fake.add(FakeUser("boss", "Alex Boss", "alex@example.org"))
    fake.add(FakeUser("u1", "Morag", "morag@example.org", manager="boss"))
    fake.add(FakeUser("ceo", "Chief", "ceo@example.org"))
    assert await client.manager("ceo") is None
    fake.manager_endpoint_forbidden = True
    manager = await client.manager("u1")
    assert manager is not None
    assert manager.id == "boss"
    assert any("$expand" in path for _, path in fake.requests)


async def test_install_is_idempotent_and_mail_is_accepted(graph) -> None:  # type: ignore[no-untyped-def]
    fake, _, client, _ = graph
    fake.add(FakeUser("boss", "Alex Boss", "alex@example.org"))
    await client.install_app("boss", "catalog-1")
    await client.install_app("boss", "catalog-1")  # 409 is fine
    assert fake.installed["boss"] == {"catalog-1"}
    await client.send_mail("adviser@example.org", "dcct@example.org", "Subject", "<p>x</p>")
    assert fake.mail[0]["message"]["toRecipients"][0]["emailAddress"]["address"] == (
        "dcct@example.org"
    )


async def test_429_retry_after_is_honoured_then_long_waits_are_handed_back(graph) -> None:  # type: ignore[no-untyped-def]
    fake, _, _, tokens = graph
    waits: list[float] = []

    async def sleep(seconds: float) -> None:  # records the waits instead of spending them
        waits.append(seconds)

    async with aiohttp.ClientSession() as http:
        client = GraphClient(http, fake.base_url, tokens.token, replace(RETRY, sleep=sleep))
        fake.add(FakeUser("ceo", "Chief", "ceo@example.org"))
        fake.fail_next(429, retry_after=1)
        assert await client.manager("ceo") is None
        assert waits == [1.0], "the server's Retry-After, not our backoff"
        fake.fail_next(429, retry_after=120)
        with pytest.raises(ServiceError) as failure:
            await client.manager("ceo")
    assert (failure.value.status, failure.value.retry_after) == (429, 120.0)
    assert failure.value.transient
    assert waits == [1.0], "a long wait is handed back, not slept through"


async def test_wrong_secret_is_a_clear_token_error() -> None:
    async with FakeIdentity(CLIENT, SECRET) as identity:
        tokens = MsalGraphTokens(
            client_id=CLIENT,
            tenant_id=identity.tenant,
            authority_host=identity.authority_host,
            secret="wrong",
            verify=identity.ca_path,
        )
        with pytest.raises(TokenError, match="invalid_client"):
            await tokens.token()


async def test_activity_notification_in_graph_wire_format(graph) -> None:  # type: ignore[no-untyped-def]
    fake, _, client, _ = graph
    fake.add(FakeUser("boss", "Alex Boss", "alex@example.org"))
    notice = ActivityNotice(
        activity_type="escalationRequest",
        topic="Request #7",
        web_url="https://teams.microsoft.com/l/message/19:chat/123",
        preview="x" * 200,
        parameters={"asker": "Morag", "request": "#7"},
        chain_id=7,
    )
    await client.notify_activity("boss", notice)
    assert fake.notifications == [
        {
            "user": "boss",
            "topic": {"source": "text", "value": "Request #7",
                      "webUrl": "https://teams.microsoft.com/l/message/19:chat/123"},
            "activityType": "escalationRequest",
            "previewText": {"content": "x" * 150},
            "templateParameters": [{"name": "asker", "value": "Morag"},
                                   {"name": "request", "value": "#7"}],
            "chainId": 7,
        }
    ]  # fmt: skip
    with pytest.raises(ServiceError) as refused:
        await client.notify_activity("boss", replace(notice, activity_type="undeclared"))
    assert (refused.value.status, refused.value.code) == (400, "BadRequest")
    with pytest.raises(ServiceError) as refused:
        await client.notify_activity("boss", replace(notice, web_url="https://evil.example/"))
    assert refused.value.status == 400
    with pytest.raises(ServiceError) as missing:
        await client.notify_activity("nobody", notice)
    assert missing.value.status == 404
    fake.fail_next(403, endpoint="/sendActivityNotification")
    with pytest.raises(ServiceError) as forbidden:
        await client.notify_activity("boss", notice)
    assert (forbidden.value.status, forbidden.value.code, forbidden.value.transient) == (
        403, "Forbidden", False
    )  # fmt: skip
    assert len(fake.notifications) == 1
