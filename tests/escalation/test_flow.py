"""Escalation end to end: the real server, the fake Bot Connector, fake Graph and sign-in."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import unquote

import pytest

from bot.app import ADVISER_KEY, ESCALATION_KEY, PURGES_KEY
from bot.escalation.tickets import Status
from bot.fakes.activities import TeamsUser
from bot.fakes.connector import Member, Sent
from bot.store.retention import purge_once
from tests.channels.conftest import actions_of, card_text, cards_in
from tests.escalation.conftest import (
    ASKER,
    CATALOG_APP,
    DCCT_CHANNEL,
    DCCT_MEMBER,
    DCCT_TEAM,
    MANAGER,
    STRANGER,
    World,
)

pytestmark = pytest.mark.usefixtures("bot_sdk")  # every test runs once per Bot SDK

OTHER = TeamsUser(  # a second DCCT member
    id="29:dcct-two",
    name="Jo Comms",
    aad_object_id="aad-dcct-2",
    conversation_id="19:dcct-channel@thread.tacv2;messageid=1",
)
QUESTION = "Can I retweet a party leader's post criticising the Scottish Government?"


def in_conversation(sent: list[Sent], conversation_id: str) -> list[Sent]:
    return [s for s in sent if unquote(s.conversation_id) == conversation_id]


def asker_cards(world: World) -> list[dict[str, Any]]:
    return cards_in(in_conversation(world.connector.sent, ASKER.conversation_id))


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["title"] == title)["data"]  # type: ignore[no-any-return]


async def manager_chat(world: World) -> str:
    """The 1:1 chat the bot created with the manager (the fake numbers it)."""
    sent = await world.until(lambda s: any(x.path == "/v3/conversations" for x in s))
    created = next(x for x in sent if x.path == "/v3/conversations")
    await world.until(lambda s: any(x.conversation_id.startswith("a:fake") for x in s))
    assert created.activity["members"] == [{"id": MANAGER.aad_object_id}]
    return unquote(next(x for x in world.connector.sent
                        if x.conversation_id.startswith("a:fake")).conversation_id)  # fmt: skip


async def manager_request(world: World) -> dict[str, Any]:
    chat = await manager_chat(world)
    [card, *_] = cards_in(in_conversation(world.connector.sent, chat))
    return card


async def test_preview_shows_exactly_what_is_sent_and_needs_consent(world: World) -> None:
    card = await world.answer_card_for(ASKER, QUESTION)
    offer = button(card, "Ask my line manager")
    [preview] = cards_in(await world.press(ASKER, offer))
    text = card_text(preview)
    assert "Morag Stewart" in text
    assert "The adviser said" in text
    question_box = next(i for i in preview["body"] if i.get("id") == "question")
    assert question_box["value"] == QUESTION
    assert {a["title"] for a in actions_of(preview)} == {
        "Send request",
        "Ask the DCCT instead",
        "Cancel",
    }
    # Without the consent tick, nothing is stored or sent.
    [reply] = await world.press(ASKER, {**button(preview, "Send request"), "question": QUESTION})
    assert "Tick the box" in reply.activity["text"]
    assert await world.app[ESCALATION_KEY].store.for_asker(ASKER.id) == []
    [cancelled] = await world.press(ASKER, button(preview, "Cancel"))
    assert cancelled.method == "PUT"
    assert "Nothing was sent" in card_text(cards_in([cancelled])[0])


async def test_an_edited_question_is_sent_with_the_verdict_the_preview_showed(
    world: World,
) -> None:
    """The ticket records the advice the asker saw, about the question as first asked,
    and says the question was edited: nothing is re-judged from text sent back."""
    card = await world.answer_card_for(ASKER, QUESTION)
    shown = world.app[ADVISER_KEY].advise(QUESTION)
    [preview] = cards_in(await world.press(ASKER, button(card, "Ask my line manager")))
    edited = "Can I share a photo of a sunset from my holiday?"  # judged OK on its own
    assert world.app[ADVISER_KEY].advise(edited).verdict is not shown.verdict
    send = {**button(preview, "Send request"), "question": edited, "consent": "true"}
    [sent] = await world.press(ASKER, send)
    assert sent.method == "PUT", "the preview is replaced: it cannot be sent twice"
    ticket = await world.ticket()
    assert (ticket.question, ticket.verdict, ticket.clauses) == (
        edited,
        shown.verdict.value,
        ",".join(shown.clauses),
    )
    assert ticket.edited
    request = await manager_request(world)
    assert "about the question as first asked: Morag Stewart edited it" in card_text(request)


async def test_switching_route_replaces_the_preview_and_keeps_the_edit(world: World) -> None:
    card = await world.answer_card_for(ASKER, QUESTION)
    [preview] = cards_in(await world.press(ASKER, button(card, "Ask my line manager")))
    switch = {**button(preview, "Ask the DCCT instead"), "question": "My own words"}
    [switched] = await world.press(ASKER, switch)
    assert switched.method == "PUT"
    [dcct] = cards_in([switched])
    assert "Ask the DCCT" in card_text(dcct)
    assert next(i for i in dcct["body"] if i.get("id") == "question")["value"] == "My own words"
    # A sealed offer that was tampered with acts on nothing.
    forged = {**button(dcct, "Send request"), "consent": "true", "question": "x"}
    forged["offer"] = forged["offer"][:-4] + "0000"
    [refused] = await world.press(ASKER, forged)
    assert "couldn't act on that button" in refused.activity["text"]
    assert await world.app[ESCALATION_KEY].store.for_asker(ASKER.id) == []


async def test_ask_escalate_manager_answers_and_the_asker_gets_it(world: World) -> None:
    await world.escalate(QUESTION)
    request = await manager_request(world)
    text = card_text(request)
    assert "Morag Stewart asks" in text
    assert "retweet a party leader" in text
    # Graph: the manager was looked up and the app installed for them; then a 1:1 chat.
    assert world.graph.installed[MANAGER.aad_object_id] == {CATALOG_APP}
    created = next(s for s in world.connector.sent if s.path == "/v3/conversations")
    assert created.activity["members"] == [{"id": MANAGER.aad_object_id}]
    assert created.activity["isGroup"] is False
    delivered = await world.until(lambda s: any("Delivered to Alex Boss" in card_text(c)
                                                 for c in cards_in(s)))  # fmt: skip
    assert delivered
    assert (await world.ticket()).status is Status.SENT

    answer = {**button(request, "Not OK"), "answer": "Please don't: see D13."}
    [updated] = await world.press(MANAGER, answer)
    assert updated.method == "PUT"  # the manager's card now shows the outcome, no buttons
    assert "Not OK to post" in card_text(cards_in([updated])[0])
    assert actions_of(cards_in([updated])[0]) == []

    sent = await world.until(lambda s: any("Answer from Alex Boss" in card_text(c)
                                           for c in cards_in(s)))  # fmt: skip
    relayed = next(c for c in cards_in(sent) if "Answer from Alex Boss" in card_text(c))
    assert "Please don't: see D13" in card_text(relayed)
    assert "Send follow-up" in [a["title"] for a in actions_of(relayed)]
    ticket = await world.ticket()
    assert (ticket.status, ticket.outcome, ticket.answered_by) == (
        Status.ANSWERED,
        "not_ok",
        "Alex Boss",
    )
    mine = await world.answer_card_for(ASKER, "my requests")
    assert "answered" in card_text(mine)
    assert "Please don't: see D13" in card_text(mine)


async def test_follow_up_goes_back_to_the_same_manager(world: World) -> None:
    await world.escalate(QUESTION)
    request = await manager_request(world)
    await world.press(MANAGER, {**button(request, "OK to post"), "answer": ""})
    sent = await world.until(lambda s: any("Answer from" in card_text(c) for c in cards_in(s)))
    relayed = next(c for c in cards_in(sent) if "Answer from" in card_text(c))
    follow = {**button(relayed, "Send follow-up"), "followup": "Even with a comment of my own?"}
    [reply] = await world.press(ASKER, follow)
    assert "follow-up" in reply.activity["text"]
    chat = await manager_chat(world)
    sent = await world.until(lambda s: len(cards_in(in_conversation(s, chat))) >= 2)
    second = cards_in(in_conversation(sent, chat))[-1]
    assert "Even with a comment of my own?" in card_text(second)
    assert (await world.ticket()).follow_ups == 1


async def test_someone_else_cannot_answer_and_a_forged_button_does_nothing(world: World) -> None:
    await world.escalate(QUESTION)
    request = await manager_request(world)
    [refused] = await world.press(STRANGER, {**button(request, "OK to post"), "answer": "sure"})
    assert "Only the person this request was sent to" in refused.activity["text"]
    forged = {**button(request, "Close"), "ticket": 1, "sig": "0" * 32}
    [stale] = await world.press(MANAGER, forged)
    assert "couldn't act on that button" in stale.activity["text"]
    other_ticket = {**button(request, "Close"), "ticket": 2}  # a valid sig for ticket 1 only
    [stale] = await world.press(MANAGER, other_ticket)
    assert "couldn't act on that button" in stale.activity["text"]
    assert (await world.ticket()).status is Status.SENT


async def test_no_manager_on_record_goes_to_the_dcct_channel_and_the_asker_is_told(
    world: World,
) -> None:
    world.graph.users[ASKER.aad_object_id].manager = None
    await world.escalate(QUESTION)
    sent = await world.until(
        lambda s: any(x.path == "/v3/conversations" and x.activity.get("isGroup") for x in s)
    )
    channel_post = next(x for x in sent if x.activity.get("isGroup"))
    assert channel_post.activity["channelData"]["channel"]["id"] == DCCT_CHANNEL
    posted = channel_post.activity["activity"]["attachments"][0]["content"]
    assert "no line manager is on record" in card_text(posted)
    await world.until(lambda s: any("Sent to the DCCT instead" in card_text(c)
                                    for c in cards_in(s)))  # fmt: skip
    ticket = await world.ticket()
    assert (ticket.route, ticket.rerouted, ticket.status) == ("dcct", "no_manager", Status.SENT)

    # A DCCT member takes it, then answers; pressing later, they and another member are told.
    world.connector.members[DCCT_TEAM].append(Member(OTHER.id, OTHER.name, OTHER.aad_object_id))
    [taken] = await world.press(DCCT_MEMBER, button(posted, "Take it"))
    assert "Dana Comms is answering this" in card_text(cards_in([taken])[0])
    await world.press(DCCT_MEMBER, {**button(posted, "Reply"), "answer": "Use your own voice."})
    sent = await world.until(lambda s: any("Answer from Dana Comms (DCCT)" in card_text(c)
                                           for c in cards_in(s)))  # fmt: skip
    replies = await world.press(DCCT_MEMBER, {**button(posted, "Close")}, expect=2)
    said = [r.activity.get("text") for r in replies if r.activity.get("text")]
    assert said == ["You have already dealt with this request (answered)."]
    replies = await world.press(OTHER, {**button(posted, "Close")}, expect=2)
    said = [r.activity.get("text") for r in replies if r.activity.get("text")]
    assert said == ["Dana Comms has already dealt with this request (answered)."]


async def test_reply_needs_text(world: World) -> None:
    await world.escalate(QUESTION)
    request = await manager_request(world)
    [reply] = await world.press(MANAGER, {**button(request, "Reply"), "answer": "  "})
    assert "Type your answer" in reply.activity["text"]


async def test_429_storm_on_delivery_is_retried_with_retry_after_and_sent_once(
    world: World,
) -> None:
    # At the delivery's own call (opening the manager's chat), not at the asker's replies.
    world.connector.fail_next(429, times=3, retry_after=1, path="/v3/conversations")
    await world.escalate(QUESTION)
    store = world.app[ESCALATION_KEY].store
    # The worker reschedules at now + Retry-After on the (fake) clock; move it along.
    await until_sent(world, seconds=20)
    await manager_request(world)
    chat = await manager_chat(world)
    assert len(cards_in(in_conversation(world.connector.sent, chat))) == 1
    counts = await store.outbox_counts()
    assert counts.get("dead", 0) == 0


async def test_unanswered_request_is_reminded_then_moved_to_the_dcct(world: World) -> None:
    await world.escalate(QUESTION)
    request = await manager_request(world)
    worker = world.app[ESCALATION_KEY].worker
    world.clock.advance(timedelta(hours=4))
    assert await worker.sweep() == 0  # 4 working hours: not yet
    world.clock.advance(timedelta(days=1))  # Thursday 14:00: 11 working hours
    assert await worker.sweep() == 1
    await world.until(lambda s: any("Reminder" in card_text(c) for c in cards_in(s)))
    await world.until(lambda s: any("I have reminded Alex Boss" in card_text(c)
                                    for c in cards_in(s)))  # fmt: skip
    # One live card: the first copy now points to the reminder and has no buttons.
    superseded = await world.until(lambda s: any(
        x.method == "PUT" and "answer it there" in card_text(x.activity) for x in s))  # fmt: skip
    first = next(x for x in superseded if x.method == "PUT")
    assert actions_of(first.activity) == []
    world.clock.advance(timedelta(days=1))  # Friday 14:00: 19 working hours > 16
    assert await worker.sweep() == 1
    sent = await world.until(lambda s: any(x.activity.get("isGroup") for x in s))
    channel_post = next(x for x in sent if x.activity.get("isGroup"))
    assert "had not answered in time" in card_text(channel_post.activity["activity"])
    moved = await world.until(lambda s: any(x.method == "PUT" and "went to the DCCT"
                                            in card_text(x.activity) for x in s))  # fmt: skip
    assert moved
    # The manager's old card no longer acts for them.
    [refused] = await world.press(MANAGER, {**button(request, "OK to post"), "answer": ""})
    assert "Only the person" in refused.activity["text"]


async def test_my_requests_lists_status_and_withdraw_updates_the_expert_card(
    world: World,
) -> None:
    await world.escalate(QUESTION)
    await manager_request(world)
    card = await world.answer_card_for(ASKER, "my requests")
    assert "**#1** to line manager: waiting for an answer" in card_text(card)
    request = await manager_request(world)
    replies = await world.press(ASKER, button(card, "Withdraw"), expect=2)
    assert any("withdrawn" in (r.activity.get("text") or "") for r in replies)
    said = "Withdrawn by Morag Stewart, so no answer is needed"
    await world.until(lambda s: any(x.method == "PUT" and said in card_text(x.activity)
                                    for x in s))  # fmt: skip
    assert (await world.ticket()).status is Status.CANCELLED
    # A button on an old copy of the card says who withdrew it, not "someone else".
    late = await world.press(MANAGER, {**button(request, "OK to post"), "answer": ""}, expect=2)
    told = [r.activity.get("text") or "" for r in late]
    assert "Morag Stewart withdrew this request, so no answer is needed." in told


async def test_nowhere_to_deliver_fails_loudly_to_the_asker(world: World) -> None:
    world.graph.users[ASKER.aad_object_id].manager = None
    deliveries = world.app[ESCALATION_KEY].worker.deliveries
    deliveries.config = replace(deliveries.config, dcct=replace(deliveries.config.dcct,
                                team_id="", channel_id=""))  # fmt: skip
    await world.escalate(QUESTION)
    await world.until(lambda s: any("couldn't deliver your request" in card_text(c)
                                    for c in cards_in(s)))  # fmt: skip
    assert (await world.ticket()).status is Status.FAILED
    counts = await world.app[ESCALATION_KEY].store.outbox_counts()
    assert counts.get("dead") == 1
    async with world.http.get(f"{world.url}/healthz") as response:
        health = await response.json()
    assert health["outbox"] == {"pending": 0, "dead": 1}, "the operator can see it"


async def test_when_teams_cannot_list_the_dcct_team_nothing_changes(world: World) -> None:
    world.graph.users[ASKER.aad_object_id].manager = None
    await world.escalate(QUESTION)
    sent = await world.until(lambda s: any(x.activity.get("isGroup") for x in s))
    posted = next(x for x in sent if x.activity.get("isGroup")).activity["activity"]
    card = posted["attachments"][0]["content"]
    await world.idle()  # the activity-feed alert has read the members: the next read fails
    world.connector.fail_next(400, path=f"/v3/conversations/{DCCT_TEAM}/members")
    [unknown] = await world.press(DCCT_MEMBER, {**button(card, "Close")})
    assert "couldn't check who may answer" in unknown.activity["text"]
    assert (await world.ticket()).status is Status.SENT
    world.connector.members.pop(DCCT_TEAM)  # readable again, and they are not in it
    [refused] = await world.press(DCCT_MEMBER, {**button(card, "Close")})
    assert "Only the person" in refused.activity["text"]
    assert (await world.ticket()).status is Status.SENT


def with_dcct_mailbox(world: World, *, channel: bool = True) -> None:
    deliveries = world.app[ESCALATION_KEY].worker.deliveries
    dcct = replace(deliveries.config.dcct, mailbox="dcct@example.org",
                   sender_mailbox="adviser@example.org")  # fmt: skip
    if not channel:
        dcct = replace(dcct, team_id="", channel_id="")
    deliveries.config = replace(deliveries.config, dcct=dcct)


async def test_a_refused_dcct_channel_post_goes_by_mail(world: World) -> None:
    """The runbook's promise: Teams delivery to the DCCT fails, the mailbox gets it."""
    world.graph.users[ASKER.aad_object_id].manager = None
    with_dcct_mailbox(world)
    world.connector.fail_next(403, path="/v3/conversations")  # the app was removed from the team
    await world.escalate(QUESTION)
    await world.until(lambda s: any("e-mailed to the DCCT" in card_text(c) for c in cards_in(s)))
    [mail] = world.graph.mail
    assert mail["from"] == "adviser@example.org"
    message = mail["message"]
    assert message["toRecipients"] == [{"emailAddress": {"address": "dcct@example.org"}}]
    assert "request #1" in message["subject"]
    assert "retweet a party leader" in message["body"]["content"]
    ticket = await world.ticket()
    assert (ticket.status, ticket.route, ticket.closed_at) == (Status.MAILED, "dcct", None)
    assert not [s for s in world.connector.sent if s.activity.get("isGroup")], "no channel post"
    mine = await world.answer_card_for(ASKER, "my requests")
    assert "e-mailed to the DCCT" in card_text(mine)
    assert "Withdraw" not in [a["title"] for a in actions_of(mine)], "a mail can't be recalled"


async def test_a_transient_dcct_channel_failure_is_retried_not_mailed(world: World) -> None:
    world.graph.users[ASKER.aad_object_id].manager = None
    with_dcct_mailbox(world)
    world.connector.fail_next(503, retry_after=1, path="/v3/conversations")
    await world.escalate(QUESTION)
    await until_sent(world, seconds=40)
    assert world.graph.mail == []


async def test_a_mailed_request_closes_after_its_time_is_told_and_purged(world: World) -> None:
    world.graph.users[ASKER.aad_object_id].manager = None
    with_dcct_mailbox(world, channel=False)
    await world.escalate(QUESTION)
    await world.until(lambda s: any("e-mailed to the DCCT" in card_text(c) for c in cards_in(s)))
    worker = world.app[ESCALATION_KEY].worker
    world.clock.advance(
        timedelta(days=world.settings.escalation.mailed_close_days) - timedelta(hours=1)
    )
    assert await worker.sweep() == 0, "not yet"
    world.clock.advance(timedelta(hours=1))
    assert await worker.sweep() == 1
    await world.until(lambda s: any("closed this request here" in card_text(c)
                                    for c in cards_in(s)))  # fmt: skip
    ticket = await world.ticket()
    assert ticket.closed_at == world.clock.now()
    assert await worker.sweep() == 0, "told once"
    mine = await world.answer_card_for(ASKER, "my requests")
    assert "sent by mail (closed here)" in card_text(mine)
    # Retention deletes it like any closed request.
    days = world.settings.store.retention_days
    world.clock.advance(timedelta(days=days + 1))
    purges = world.app[PURGES_KEY]
    counts = await purge_once(purges, world.clock, days)
    assert set(counts) == {"feedback", "welcomes", "answer_events", "tickets", "proposals"}, (
        "every store that holds personal data or its traces has a purge"
    )
    assert counts["tickets"] == 1
    assert await world.app[ESCALATION_KEY].store.get(ticket.id) is None
    mine = await world.answer_card_for(ASKER, "my requests")
    assert "no requests" in card_text(mine)


async def until_sent(world: World, seconds: int) -> None:
    """Move the fake clock on a second at a time and have the worker deliver what is due
    then (the worker reschedules a refused send at now + Retry-After on that clock). Each
    drain returns once its attempts are settled, so no real time is waited for; a send
    the app's own worker has in hand is let finish first (it was woken by the request)."""
    worker = world.app[ESCALATION_KEY].worker
    store = world.app[ESCALATION_KEY].store
    for _ in range(seconds):
        if (await world.ticket()).status is Status.SENT:
            break
        for _ in range(2000):  # a condition, bounded: no row is being sent right now
            if not (await store.outbox_counts()).get("sending"):
                break
            await asyncio.sleep(0.01)
        world.clock.advance(timedelta(seconds=1))
        await worker.drain()
    assert (await world.ticket()).status is Status.SENT
