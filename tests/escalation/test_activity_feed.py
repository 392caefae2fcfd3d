"""The alert in the expert's Teams activity feed: sent through the fake Graph with a deep
link to the request card, and never in the way of the request when it fails."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from bot.app import ESCALATION_KEY
from bot.conversation.labels import verdict_badge
from bot.escalation.tickets import Status
from bot.fakes.activities import BOT_ID, TENANT
from tests.channels.conftest import card_text, cards_in
from tests.escalation.conftest import ASKER, DCCT_CHANNEL, DCCT_MEMBER, MANAGER, World
from tests.escalation.test_flow import QUESTION, manager_request

APP_ID = BOT_ID.removeprefix("28:")


async def delivered(world: World) -> None:
    await world.until(lambda s: any("Delivered to" in card_text(c) or "Sent to the DCCT"
                                    in card_text(c) for c in cards_in(s)))  # fmt: skip
    await world.idle()


async def test_the_manager_is_alerted_with_a_link_to_the_request_card(world: World) -> None:
    await world.escalate(QUESTION)
    await manager_request(world)
    await delivered(world)
    ticket = await world.ticket()
    [notice] = world.graph.notifications
    assert notice["user"] == MANAGER.aad_object_id
    assert notice["activityType"] == "escalationRequest"
    assert notice["topic"]["source"] == "text"
    assert notice["topic"]["value"] == "Request #1"
    assert notice["chainId"] == 1
    assert notice["templateParameters"] == [
        {"name": "asker", "value": ASKER.name},
        {"name": "request", "value": "#1"},
    ]
    # The link opens the card in the manager's chat with the bot, as Teams names it.
    link = urlsplit(notice["topic"]["webUrl"])
    assert (link.scheme, link.netloc) == ("https", "teams.microsoft.com")
    chat, message = unquote(link.path).removeprefix("/l/message/").split("/")
    assert chat == f"19:{MANAGER.aad_object_id}_{APP_ID}@unq.gbl.spaces"
    assert message == ticket.expert_activity_id
    assert parse_qs(link.query)["context"] == ['{"contextType":"chat"}']
    # The adviser's verdict, and never the question: an alert can show on a lock screen.
    said = verdict_badge(ticket.verdict)
    assert notice["previewText"] == {
        "content": f"The adviser said: {said}. Open the request to answer it."
    }


async def test_the_dcct_members_are_alerted_with_a_link_to_the_channel_post(
    world: World,
) -> None:
    world.graph.users[ASKER.aad_object_id].manager = None
    await world.escalate(QUESTION)
    await delivered(world)
    ticket = await world.ticket()
    assert ticket.route == "dcct"
    [notice] = world.graph.notifications
    assert notice["user"] == DCCT_MEMBER.aad_object_id
    link = urlsplit(notice["topic"]["webUrl"])
    channel, message = unquote(link.path).removeprefix("/l/message/").split("/")
    assert (channel, message) == (DCCT_CHANNEL, ticket.expert_activity_id)
    query = parse_qs(link.query)
    assert query["parentMessageId"] == [ticket.expert_activity_id]
    assert query["tenantId"] == [TENANT]


async def test_a_reminder_replaces_the_alert_with_one_linking_to_the_reminder(
    world: World,
) -> None:
    await world.escalate(QUESTION)
    await manager_request(world)
    await delivered(world)
    world.clock.advance(timedelta(days=1, hours=1))  # Thursday 11:00: 9 working hours
    assert await world.app[ESCALATION_KEY].worker.sweep() == 1
    await world.until(lambda s: any("Reminder" in card_text(c) for c in cards_in(s)))
    await world.idle()
    first, reminder = world.graph.notifications
    assert reminder["activityType"] == "escalationReminder"
    assert reminder["chainId"] == first["chainId"] == 1, "one entry in the feed, updated"
    # The reminder is now the one live request card (the first lost its buttons): the
    # alert opens it, not the first copy.
    ticket = await world.ticket()
    linked = [unquote(urlsplit(n["topic"]["webUrl"]).path).rsplit("/", 1)[1]
              for n in (first, reminder)]  # fmt: skip
    assert linked[1] == ticket.expert_activity_id
    assert linked[0] != linked[1]


@pytest.mark.parametrize("status", [403, 500])
async def test_a_failed_alert_is_logged_and_the_request_still_arrives(
    world: World, status: int, caplog: pytest.LogCaptureFixture
) -> None:
    world.graph.fail_next(status, endpoint="/sendActivityNotification")
    with caplog.at_level(logging.WARNING, logger="bot.escalation.activity_feed"):
        await world.escalate(QUESTION)
        request = await manager_request(world)
        await delivered(world)
    assert "Morag Stewart asks" in card_text(request)
    assert (await world.ticket()).status is Status.SENT
    assert world.graph.notifications == []
    failed = [r for r in caplog.records if r.getMessage() == "activity_feed.failed"]
    assert [getattr(r, "fields", {}).get("status") for r in failed] == [status]
    counts = await world.app[ESCALATION_KEY].store.outbox_counts()
    assert counts.get("dead", 0) == 0, "nothing for the operator to chase: it was dropped"


async def test_no_alert_when_switched_off(world: World) -> None:
    deliveries: Any = world.app[ESCALATION_KEY].worker.deliveries
    deliveries.feed.config = replace(deliveries.feed.config, enabled=False)
    await world.escalate(QUESTION)
    await manager_request(world)
    await delivered(world)
    assert world.graph.notifications == []
