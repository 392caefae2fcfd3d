"""Two bot processes on one PostgreSQL database: nothing lost, nothing sent twice.

Real `python -m bot serve` subprocesses (local mode: the asker's own chat stands in for
the line manager), the fake Bot Connector and a real PostgreSQL server in the test. The
escalations are written the way the service writes them (a few through the replicas'
own /api/messages, the bulk straight through the store, because judging a thousand
questions would only measure the judge), and both replicas' workers deliver them. Each
request card the connector receives is counted per ticket: lost = no card, duplicates
= every card beyond the first.

The documented window for a duplicate: a replica dies (kill -9) or loses its database
after Teams accepted a request card and before the send was recorded; the row's lease
then runs out and the other replica sends it again. So the kill test allows one
duplicate (the one send the killed replica had in flight) and the restart test two.
Leases are short here (BOT_OUTBOX_LEASE_SECONDS) so a takeover takes seconds.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote

import aiohttp
import pytest

from bot.conversation.signing import CardSigner
from bot.core.types import Verdict
from bot.escalation.service import OFFER, Offer
from bot.escalation.store import TicketStore
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.connector import FakeConnector
from bot.fakes.postgres import PostgresServer
from bot.store.database import Tx
from bot.store.postgres import PostgresDatabase
from tests.channels.conftest import card_text
from tests.channels.test_serve import free_port, wait_healthy
from tests.conftest import ROOT
from tests.store.helpers import confirmed

pytestmark = pytest.mark.e2e
LEASE_SECONDS = 4
SIGNING_KEY = "k" * 40  # both replicas sign and check cards with it
NOW = datetime.now(UTC)
REQUEST = "asks: is this OK to post?"


class Replica:
    def __init__(self, name: str, env: dict[str, str], logs: Path) -> None:
        self.name = name
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = logs / f"replica-{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: ASYNC220 - quick to start
                [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        await wait_healthy(self.url, self.process)

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up of any kind
        self.process.wait(timeout=10)

    async def terminate(self) -> int:
        """SIGTERM, as Container Apps sends to the old revision; wait for a clean exit."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        for _ in range(400):
            if self.process.poll() is not None:
                return self.process.returncode
            await asyncio.sleep(0.05)
        raise AssertionError(f"replica {self.name} did not stop")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@dataclass
class Cluster:
    connector: FakeConnector
    server: PostgresServer
    db: PostgresDatabase
    store: TicketStore
    replicas: dict[str, Replica]
    tickets: list[str]  # the asker conversation of each escalation
    _cards: Counter[str] = field(default_factory=Counter)
    _read: int = 0  # how many of the connector's calls are counted already

    def request_cards(self) -> Counter[str]:
        """Request cards received, per asker conversation (one conversation per ticket)."""
        sent = self.connector.sent
        for call in sent[self._read :]:
            for attachment in call.activity.get("attachments") or []:
                if REQUEST in card_text(attachment.get("content") or {}):
                    self._cards[unquote(call.conversation_id)] += 1
        self._read = len(sent)
        return self._cards

    async def seed(self, count: int) -> None:
        url = self.connector.service_url
        for number in range(len(self.tickets), len(self.tickets) + count):
            await self.store.create(confirmed(NOW, number, offer=f"o-{number}", service_url=url))
            self.tickets.append(f"a:c{number}")

    async def confirm_through(self, replica: Replica, number: int) -> None:
        """An escalation confirmed the way a person does: a card submit to /api/messages."""
        user = TeamsUser(id=f"29:http-{number}", aad_object_id=f"aad-http-{number}",
                         conversation_id=f"a:http-{number}")  # fmt: skip
        question = "Can I post a photo of my team at the garden party?"
        # The preview's sealed offer, as the bot put it into the Send request button.
        offer = Offer(question, Verdict.CAUTION, ("D9",), None, "sha256:test", f"h-{number}")
        sealed = CardSigner(SIGNING_KEY.encode()).seal(OFFER, offer.to_json())
        data = {"action": "escalation.confirm", "route": "line_manager", "offer": sealed,
                "question": question, "consent": "true"}  # fmt: skip
        activity = activities.card_submit(data, user, self.connector.service_url, "a-1")
        async with (
            aiohttp.ClientSession() as http,
            http.post(f"{replica.url}/api/messages", json=activity) as response,
        ):
            assert response.status in (200, 201), await response.text()
        self.tickets.append(user.conversation_id)

    async def until(self, check: Callable[[], bool], seconds: float = 180) -> None:
        for _ in range(int(seconds / 0.1)):
            if check():
                return
            await asyncio.sleep(0.1)
        raise AssertionError("condition never held; see the replica logs in the tmp folder")

    async def all_sent(self, seconds: float = 240) -> None:
        """Every ticket's request and its notice done (the outbox says so)."""
        want = {"done": 2 * len(self.tickets)}
        for _ in range(int(seconds / 0.25)):
            if await self.store.outbox_counts() == want:
                return
            await asyncio.sleep(0.25)
        raise AssertionError(f"outbox {await self.store.outbox_counts()}, want {want}")

    def tally(self) -> tuple[int, int, int]:
        """(sent, lost, duplicates) of request cards over every escalation."""
        cards = self.request_cards()
        lost = sum(1 for t in self.tickets if cards[t] == 0)
        duplicates = sum(cards[t] - 1 for t in self.tickets if cards[t] > 1)
        return sum(cards[t] for t in self.tickets), lost, duplicates

    async def sent_by(self) -> Counter[str]:
        """Done rows per replica (the pid in each worker's name)."""

        async def read(tx: Tx) -> list[str]:
            rows = await tx.fetch("SELECT claimed_by FROM outbox WHERE state = 'done'")
            return [str(r["claimed_by"]) for r in rows]

        names = await self.db.read(read)
        pids = {str(r.pid): name for name, r in self.replicas.items()}
        return Counter(pids.get(n.split("/")[1], "?") for n in names)

    async def held_by(self, replica: Replica) -> list[int]:
        async def read(tx: Tx) -> list[int]:
            rows = await tx.fetch(
                "SELECT id FROM outbox WHERE state = 'sending' AND claimed_by LIKE ?",
                (f"%/{replica.pid}/%",),
            )
            return [int(r["id"]) for r in rows]

        return await self.db.read(read)


@pytest.fixture
async def cluster(
    tmp_path: Path, postgres_server: PostgresServer, postgres_url: str
) -> AsyncIterator[Cluster]:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_DATABASE_URL": postgres_url,
        "BOT_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "BOT_OUTBOX_POLL_SECONDS": "0.2",
        "BOT_LOG_FORMAT": "json",
        "CARD_SIGNING_KEY": SIGNING_KEY,
    }
    env.pop("MicrosoftAppId", None)
    db = PostgresDatabase(postgres_url)
    await db.open()
    replicas = {name: Replica(name, env, tmp_path) for name in ("A", "B")}
    async with FakeConnector() as connector:
        try:
            yield Cluster(connector, postgres_server, db, TicketStore(db), replicas, [])
        finally:
            for replica in replicas.values():
                replica.stop()
            await db.close()


async def start_both(cluster: Cluster) -> tuple[Replica, Replica]:
    a, b = cluster.replicas["A"], cluster.replicas["B"]
    await asyncio.gather(a.start(), b.start())
    return a, b


async def test_two_replicas_deliver_a_thousand_escalations_exactly_once(
    cluster: Cluster,
) -> None:
    a, b = await start_both(cluster)
    for number in range(4):  # through each replica's own endpoint, as people do
        await cluster.confirm_through(a if number % 2 else b, number)
    await cluster.seed(1000 - len(cluster.tickets))
    await cluster.all_sent()
    sent, lost, duplicates = cluster.tally()
    print(f"two replicas: sent {sent}, lost {lost}, duplicates {duplicates}")  # noqa: T201
    assert (sent, lost, duplicates) == (1000, 0, 0)
    by = await cluster.sent_by()
    assert by["A"] > 100, f"both replicas delivered: {by}"
    assert by["B"] > 100, f"both replicas delivered: {by}"


async def test_kill_9_mid_send_the_other_replica_finishes_after_the_lease(
    cluster: Cluster,
) -> None:
    a, _b = await start_both(cluster)
    await cluster.seed(1000)
    await cluster.until(lambda: sum(cluster.request_cards().values()) >= 300)
    a.kill()
    held = await cluster.held_by(a)
    assert held, "the killed replica held leased rows"
    await cluster.all_sent()
    sent, lost, duplicates = cluster.tally()
    print(f"kill -9: sent {sent}, lost {lost}, duplicates {duplicates}, "  # noqa: T201
          f"rows held by the dead replica {len(held)}")  # fmt: skip
    assert lost == 0
    assert duplicates <= 1, "at most the one send the killed replica had in flight"
    assert (await cluster.sent_by())["B"] >= len(held)


async def test_postgres_restarts_under_load_and_both_replicas_carry_on(
    cluster: Cluster,
) -> None:
    a, b = await start_both(cluster)
    await cluster.seed(300)
    await cluster.until(lambda: sum(cluster.request_cards().values()) >= 100)
    before = sum(cluster.request_cards().values())
    await asyncio.get_running_loop().run_in_executor(None, cluster.server.restart)
    await cluster.seed(50)  # and new escalations after it
    await cluster.all_sent()
    sent, lost, duplicates = cluster.tally()
    print(f"PostgreSQL restart: sent {sent}, lost {lost}, duplicates {duplicates}, "  # noqa: T201
          f"{before} sent before it")  # fmt: skip
    assert before < 350, "the restart came in the middle of the sends"
    assert lost == 0
    assert duplicates <= 2, "at most one send in flight per replica"
    by = await cluster.sent_by()
    assert by["A"] > 0
    assert by["B"] > 0
    for replica in (a, b):
        assert replica.process is not None
        assert replica.process.poll() is None, f"replica {replica.name} is still up"
        async with aiohttp.ClientSession() as http, http.get(f"{replica.url}/healthz") as health:
            assert health.status == 200


async def test_a_rolling_update_re_sends_nothing(cluster: Cluster) -> None:
    a, b = cluster.replicas["A"], cluster.replicas["B"]
    await a.start()
    await cluster.seed(150)
    await cluster.until(lambda: sum(cluster.request_cards().values()) >= 30)
    await b.start()  # the new revision starts while the old one is sending
    # More work arrives once both run, and the old revision is stopped straight away: on
    # a loaded machine A could otherwise send everything while B is still starting.
    await cluster.seed(150)
    assert await a.terminate() == 0, "the old revision stops cleanly"
    await cluster.all_sent()
    sent, lost, duplicates = cluster.tally()
    print(f"rolling update: sent {sent}, lost {lost}, duplicates {duplicates}")  # noqa: T201
    assert (sent, lost, duplicates) == (300, 0, 0)
    by = await cluster.sent_by()
    assert by["A"] > 0
    assert by["B"] > 0
