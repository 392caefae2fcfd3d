"""Rulings become knowledge, end to end: the real server, the fake Bot Connector, fake Graph
and sign-in; a consented DCCT answer becomes a proposal, a second member approves it, and
the next person asking a reworded question gets the ruling, on every replica."""

from __future__ import annotations

import asyncio
import io
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot import knowledge_cli
from bot.app import ADVISER_KEY, ESCALATION_KEY, RULINGS_KEY, SIGNER_KEY
from bot.conversation.cards import plain
from bot.conversation.dialogue import ANSWER as ANSWER_STATE
from bot.conversation.signing import CardSigner
from bot.core import Adviser, Verdict
from bot.core.rulings import rulings_path
from bot.escalation.lifecycle import Change
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.connector import Member
from bot.fakes.tokens import StaticBotTokens
from bot.rulings.desk import NOT_DCCT, OWN_PROPOSAL
from bot.store.proposals import ProposalStatus
from tests.channels.conftest import actions_of, card_text, cards_in, start
from tests.conftest import KNOWLEDGE, ROOT
from tests.escalation.conftest import (
    ASKER,
    DCCT_MEMBER,
    DCCT_TEAM,
    SIGNING_KEY,
    STRANGER,
    World,
    escalation_settings,
)

QUESTION = "Can I share the committee's published report on rural housing on my LinkedIn?"
REWORDED = (
    "Am I allowed to post the rural housing committee report, now it's published, on LinkedIn?"
)
ANONYMISED = "Can I share the published committee report on rural housing on my LinkedIn?"
ANSWER = "Yes. A committee report is public once it is published: share it as it is."
SECOND = TeamsUser(
    id="29:dcct-two",
    name="Eilidh Policy",
    aad_object_id="aad-dcct-2",
    conversation_id="19:dcct-channel@thread.tacv2;messageid=2",
)
NEXT_ASKER = TeamsUser(
    id="29:next-asker",
    name="Rory Bell",
    aad_object_id="aad-next-asker",
    conversation_id="a:next-asker-chat",
)


def button(card: dict[str, Any], title: str) -> dict[str, Any]:
    return next(a for a in actions_of(card) if a["title"] == title)["data"]  # type: ignore[no-any-return]


def titles(card: dict[str, Any]) -> set[str]:
    return {a["title"] for a in actions_of(card)}


def field(card: dict[str, Any], ident: str) -> dict[str, Any]:
    return next(i for i in card["body"] if i.get("id") == ident)


def with_second_member(world: World) -> None:
    world.connector.members[DCCT_TEAM].append(Member(SECOND.id, SECOND.name, SECOND.aad_object_id))


async def dcct_request(world: World, question: str, *, learn: bool) -> dict[str, Any]:
    """Ask, choose the DCCT, consent (and to learning, if `learn`), send; return the
    request card the bot posted in the DCCT channel."""
    card = await world.answer_card_for(ASKER, question)
    [preview] = cards_in(await world.press(ASKER, button(card, "Ask the DCCT")))
    toggle = field(preview, "learn")
    assert toggle["value"] == "false", "off unless the asker ticks it"
    assert "anonymised version of my question to improve the adviser" in toggle["title"]
    send = {**button(preview, "Send request"), "question": question, "consent": "true"}
    await world.press(ASKER, {**send, "learn": "true" if learn else "false"})
    sent = await world.until(lambda s: any(x.activity.get("isGroup") for x in s))
    posted = next(x for x in sent if x.activity.get("isGroup")).activity["activity"]
    return posted["attachments"][0]["content"]  # type: ignore[no-any-return]


async def answered(world: World, request: dict[str, Any]) -> dict[str, Any]:
    data = {**button(request, "OK to post"), "answer": "Fine once it's published."}
    [updated] = await world.press(DCCT_MEMBER, data)
    assert updated.method == "PUT"
    return cards_in([updated])[0]


async def open_form(world: World, card: dict[str, Any]) -> dict[str, Any]:
    [reply] = await world.press(DCCT_MEMBER, button(card, "Add to the adviser"))
    assert reply.method == "POST", "the form is a new card; the request card stays"
    return cards_in([reply])[0]


async def propose(world: World, form: dict[str, Any]) -> dict[str, Any]:
    """Fill the "Add to the adviser" form (anonymised, OK, an answer) and propose."""
    data = {
        **button(form, "Propose"),
        "question": ANONYMISED,
        "verdict": "ok",
        "clauses": field(form, "clauses")["value"],
        "route": "dcct",
        "answer": ANSWER,
    }
    [proposed] = await world.press(DCCT_MEMBER, data)
    assert proposed.method == "PUT", "the form becomes the proposal"
    return cards_in([proposed])[0]


def sealed_advice(world: World, card: dict[str, Any]) -> dict[str, Any]:
    """The advice an answer card's buttons carry (what a press acts on)."""
    helpful = button(card, "👍 Helpful")
    sealed = world.app[SIGNER_KEY].unseal(ANSWER_STATE, helpful[ANSWER_STATE])
    assert sealed is not None, "the bot's own seal"
    return sealed["a"]  # type: ignore[no-any-return]


async def verdict_for(world: World, user: TeamsUser, question: str) -> tuple[str, str]:
    card = await world.answer_card_for(user, question)
    return card["body"][0]["items"][0]["text"], card_text(card)


async def test_a_consented_answer_becomes_a_ruling_the_next_asker_gets_on_every_replica(
    world: World, adviser: Adviser, tmp_path: Path
) -> None:
    with_second_member(world)
    # A second replica on the same database, polling every second.
    replica_settings = escalation_settings(
        tmp_path, world.identity, world.graph, RULINGS_REFRESH_SECONDS="1"
    )
    assert replica_settings.store.database_path == world.settings.store.database_path
    runner, replica_url, replica = await start(
        replica_settings, adviser, clock=world.clock, bot_tokens=StaticBotTokens()
    )
    try:
        badge, _ = await verdict_for(world, NEXT_ASKER, REWORDED)
        assert badge == "⚠ Take care", "before the ruling the adviser is unsure"

        request = await dcct_request(world, QUESTION, learn=True)
        assert "agreed that the DCCT may use an anonymised version" in card_text(request)
        card = await answered(world, request)
        assert "Add to the adviser" in titles(card)

        form = await open_form(world, card)
        assert field(form, "question")["value"] == QUESTION
        assert field(form, "verdict")["value"] == "ok", "from the DCCT's 'OK to post'"
        ticket = await world.ticket()
        assert field(form, "clauses")["value"] == ticket.clauses, "the adviser's own pick"
        assert {c["value"] for c in field(form, "clauses")["choices"]} == set(
            adviser.knowledge.clauses
        )

        proposal = await propose(world, form)
        assert "Waiting for a second member of the DCCT" in card_text(proposal)
        assert ANONYMISED in card_text(proposal)
        assert QUESTION not in card_text(proposal)

        # Four eyes: the proposer cannot approve, nor can someone outside the DCCT.
        [own] = await world.press(DCCT_MEMBER, button(proposal, "Approve"))
        assert own.activity["text"] == OWN_PROPOSAL
        [outsider] = await world.press(STRANGER, button(proposal, "Approve"))
        assert outsider.activity["text"] == NOT_DCCT
        store = world.app[RULINGS_KEY].store
        [pending] = await store.with_status(ProposalStatus.PENDING)
        assert pending.proposer_aad == DCCT_MEMBER.aad_object_id
        assert world.app[ADVISER_KEY].rulings == ()

        [approved] = await world.press(SECOND, button(proposal, "Approve"))
        assert "Approved: the adviser uses this ruling now" in card_text(cards_in([approved])[0])
        assert "Eilidh Policy" in card_text(cards_in([approved])[0])

        # This replica took it in at once; the next asker, rewording, gets the ruling.
        ruled = await world.answer_card_for(NEXT_ASKER, REWORDED)
        said = card_text(ruled)
        assert ruled["body"][0]["items"][0]["text"] == "✔ OK to post"
        assert plain("The DCCT ruled on a case like this on 25 November 2026.") in said
        assert plain(ANSWER) in said
        # The ruling's id is not for staff to read; the card's sealed state carries it, so
        # feedback and escalation from this card are about the ruling's answer.
        assert "ruling-0001" not in said
        assert sealed_advice(world, ruled)["ruling"] == "ruling-0001"

        # The other replica takes it in at its next poll, without a restart.
        for _ in range(200):
            if replica[ADVISER_KEY].rulings:
                break
            await asyncio.sleep(0.05)
        assert [r.id for r in replica[ADVISER_KEY].rulings] == ["ruling-0001"]
        before = len(world.connector.sent)
        async with world.http.post(
            f"{replica_url}/api/messages",
            json=activities.message(REWORDED, NEXT_ASKER, world.connector.service_url),
        ) as response:
            assert response.status in (200, 201)
        sent = await world.until(lambda s: len(cards_in(s[before:])) >= 1)
        assert cards_in(sent[before:])[0]["body"][0]["items"][0]["text"] == "✔ OK to post"
    finally:
        await runner.cleanup()


async def test_the_export_round_trips_through_knowledge_check(world: World, tmp_path: Path) -> None:
    with_second_member(world)
    request = await dcct_request(world, QUESTION, learn=True)
    proposal = await propose(world, await open_form(world, await answered(world, request)))
    await world.press(SECOND, button(proposal, "Approve"))
    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, copy)
    out = io.StringIO()
    database = world.settings.store.database_path
    code = await asyncio.to_thread(knowledge_cli.export_rulings, copy, database, out)
    assert code == 0, out.getvalue()
    assert "exported 1 ruling(s)" in out.getvalue()
    [line] = rulings_path(copy).read_text(encoding="utf-8").splitlines()
    ticket = await world.ticket()
    assert json.loads(line) == {
        "id": "ruling-0001",
        "text": ANONYMISED,
        "verdict": "ok",
        "alt": [],
        "clauses": ticket.clauses.split(","),
        "route": "",
        "kind": "borderline",
        "family": "ruling-0001",
        "split": "train",
        "answer": ANSWER,
        "ruled_on": "2026-11-25",
        "policy_version": ticket.policy_version,
    }
    checked = io.StringIO()
    assert knowledge_cli.check(copy, checked) == 0, checked.getvalue()
    assert "1 DCCT ruling(s)" in checked.getvalue()
    assert Adviser.from_directory(copy).advise(REWORDED).verdict is Verdict.OK

    # Withdrawn in Teams: gone from the adviser at once and from the next export.
    desk = await world.answer_card_for(DCCT_MEMBER, "rulings")
    assert "In force" in card_text(desk)
    [withdrawn] = await world.press(DCCT_MEMBER, button(desk, "Withdraw from the adviser"))
    assert "Withdrawn" in card_text(cards_in([withdrawn])[0])
    assert world.app[ADVISER_KEY].rulings == ()
    badge, _ = await verdict_for(world, NEXT_ASKER, REWORDED)
    assert badge == "⚠ Take care"
    out = io.StringIO()
    assert await asyncio.to_thread(knowledge_cli.export_rulings, copy, database, out) == 0
    assert "removed (rejected or withdrawn): ruling-0001" in out.getvalue()
    assert not rulings_path(copy).exists()
    [gone] = await world.app[RULINGS_KEY].store.with_status(ProposalStatus.WITHDRAWN)
    assert (gone.question, gone.answer) == (None, ""), "its text is deleted"


async def test_a_rejected_proposal_is_removed_and_never_used(world: World) -> None:
    with_second_member(world)
    request = await dcct_request(world, QUESTION, learn=True)
    proposal = await propose(world, await open_form(world, await answered(world, request)))
    [rejected] = await world.press(SECOND, button(proposal, "Reject"))
    assert "Rejected. Its text was deleted." in card_text(cards_in([rejected])[0])
    [gone] = await world.app[RULINGS_KEY].store.with_status(ProposalStatus.REJECTED)
    assert (gone.question, gone.answer, gone.decided_by) == (None, "", SECOND.name)
    badge, said = await verdict_for(world, NEXT_ASKER, REWORDED)
    assert badge == "⚠ Take care"
    assert "The DCCT ruled" not in said
    # A decided proposal's buttons do nothing more.
    replies = await world.press(DCCT_MEMBER, button(proposal, "Approve"), expect=2)
    assert any("already decided" in (r.activity.get("text") or "") for r in replies)
    assert world.app[ADVISER_KEY].rulings == ()


async def test_an_unconsented_request_has_no_add_button_and_a_forged_one_does_nothing(
    world: World,
) -> None:
    request = await dcct_request(world, QUESTION, learn=False)
    assert "agreed that the DCCT may use" not in card_text(request)
    card = await answered(world, request)
    assert "Add to the adviser" not in titles(card)
    assert (await world.ticket()).learn_consent is False
    signer = CardSigner(SIGNING_KEY.encode())
    forged = {"action": "ruling.add", "ticket": 1, "sig": signer.sign(1, "learn")}
    [refused] = await world.press(DCCT_MEMBER, forged)
    assert "couldn't act on that button" in refused.activity["text"]
    [outsider] = await world.press(STRANGER, {"action": "ruling.add", "ticket": 1, "sig": "0"})
    assert outsider.activity["text"] == NOT_DCCT
    assert await world.app[RULINGS_KEY].store.with_status(*ProposalStatus) == []


async def test_the_desk_is_for_dcct_members_only(world: World) -> None:
    [refused] = await world.press(STRANGER, {"action": "ruling.approve", "proposal": 1, "sig": ""})
    assert refused.activity["text"] == NOT_DCCT
    before = len(world.connector.sent)
    await world.post(activities.message("rulings", STRANGER, world.connector.service_url))
    sent = await world.until(lambda s: len(s) > before)
    assert sent[before].activity["text"] == NOT_DCCT
    desk = await world.answer_card_for(DCCT_MEMBER, "rulings")
    assert "None waiting." in card_text(desk)


async def test_my_requests_says_when_an_answer_was_given_under_an_older_policy(
    world: World,
) -> None:
    request = await dcct_request(world, QUESTION, learn=False)
    await answered(world, request)
    await world.until(lambda s: any("Answer from" in card_text(c) for c in cards_in(s)))
    mine = await world.answer_card_for(ASKER, "my requests")
    assert "older version of the policy" not in card_text(mine)
    store = world.app[ESCALATION_KEY].store
    # As if it had been answered before the policy text changed.
    older = await store.apply(
        1, lambda t: Change(replace(t, policy_version="sha256:000000000000")), world.clock.now()
    )
    assert older is not None
    mine = await world.answer_card_for(ASKER, "my requests")
    assert "Answered under an older version of the policy" in card_text(mine)


def proposals_to_approve(card: dict[str, Any]) -> str:
    [facts] = [b for b in card["body"] if b.get("type") == "FactSet"]
    return next(f["value"] for f in facts["facts"] if f["title"] == "Proposals to approve")  # type: ignore[no-any-return]


async def insights_cli(world: World) -> str:
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "insights", "--database",
         str(world.settings.store.database_path)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


async def test_the_insights_count_the_proposals_waiting_for_a_second_member(
    world: World,
) -> None:
    with_second_member(world)
    request = await dcct_request(world, QUESTION, learn=True)
    before = await world.answer_card_for(DCCT_MEMBER, "insights")
    assert proposals_to_approve(before) == "0"
    proposal = await propose(world, await open_form(world, await answered(world, request)))

    pending = await world.answer_card_for(DCCT_MEMBER, "insights")
    assert proposals_to_approve(pending) == "1", "a real count: the DCCT's own queue"
    assert ANONYMISED not in card_text(pending), "the proposal's text stays on the desk"
    assert "Proposals waiting for a second DCCT member: 1\n" in await insights_cli(world)

    await world.press(SECOND, button(proposal, "Approve"))
    decided = await world.answer_card_for(DCCT_MEMBER, "insights")
    assert proposals_to_approve(decided) == "0"
    assert "Proposals waiting for a second DCCT member: 0\n" in await insights_cli(world)
