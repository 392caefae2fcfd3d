"""Escalation delivery throughput: how fast the outbox drains a backlog.

    python bench/bench_outbox.py [--tickets N]

Writes N confirmed escalations (ticket + outbox row, one transaction each) to a fresh
SQLite file, then lets the real worker deliver them to a fake Bot Connector on
127.0.0.1: each escalation is a request card to the expert, its ticket update, and the
"delivered" notice to the asker (two sends, four SQLite transactions). The baseline,
in the same run, is the same number of bare sends through the same Bot Connector
client with no database. Target: >= 50 escalations/s, Teams' per-app send limit, so
the database is never what holds delivery back.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

from bot.clock import SystemClock
from bot.connector import BotConnectorClient
from bot.escalation.delivery import DcctRoute, Deliveries, DeliveryConfig
from bot.escalation.signing import CardSigner
from bot.escalation.tickets import OutboxItem, SqliteTicketStore, Status, Ticket
from bot.escalation.worker import OutboxWorker, Reminders
from bot.fakes.connector import FakeConnector
from bot.http import RetryPolicy
from bot.store.database import Database

TARGET = 50.0


def ticket(number: int, service_url: str) -> Ticket:
    return Ticket(
        id=0, created_at=datetime.now(UTC), status=Status.PENDING, route="line_manager",
        asker_user_id=f"29:user-{number}", asker_aad=f"aad-{number}", asker_name="Morag",
        asker_conversation={"serviceUrl": service_url, "conversation": {"id": f"a:c{number}"},
                            "bot": {"id": "28:bot"}},
        tenant_id="t", question="Can I post a photo from the garden party?", verdict="ask",
        clauses="D9,F1", entry=None, policy_version="sha256:bench",
    )  # fmt: skip


async def baseline(connector: FakeConnector, sends: int) -> float:
    async with aiohttp.ClientSession() as session:
        client = BotConnectorClient(session, _no_token, RetryPolicy(attempts=1))
        started = time.perf_counter()
        for number in range(sends):
            await client.send(connector.service_url, f"a:c{number}", {"type": "message"})
        return time.perf_counter() - started


async def _no_token() -> None:
    return None


async def outbox(connector: FakeConnector, tickets: int, folder: Path) -> float:
    db = Database(folder / "bench.sqlite3")
    store = SqliteTicketStore(db)
    await store.open()
    for number in range(tickets):
        await store.create(ticket(number, connector.service_url),
                           [OutboxItem("deliver_request", "deliver:{ticket}:0")])  # fmt: skip
    async with aiohttp.ClientSession() as session:
        client = BotConnectorClient(session, _no_token, RetryPolicy(attempts=1))
        deliveries = Deliveries(
            store, CardSigner.ephemeral(), SystemClock(), lambda: client, lambda: None,
            DeliveryConfig(DcctRoute("", "", "", "", ""), ""),
        )  # fmt: skip
        worker = OutboxWorker(store, deliveries, SystemClock(), Reminders(8, 16, False),
                              sweep_seconds=3600, batch=50)  # fmt: skip
        started = time.perf_counter()
        while await worker.drain():
            pass
        elapsed = time.perf_counter() - started
    counts = await store.outbox_counts()
    await db.close()
    assert counts == {"done": 2 * tickets}, counts
    return elapsed


async def main(tickets: int) -> None:
    async with FakeConnector() as connector:
        connector.record_limit = 100
        with tempfile.TemporaryDirectory() as folder:
            bare = await baseline(connector, 2 * tickets)
            drained = await outbox(connector, tickets, Path(folder))
    bare_rate = 2 * tickets / bare
    rate = tickets / drained
    print(f"escalations: {tickets}  (2 sends each)")
    print(f"bare sends        : {bare_rate:8.0f} sends/s (baseline)")
    print(f"outbox deliveries : {rate:8.0f} escalations/s = {2 * rate:.0f} sends/s  "
          f"ratio {2 * rate / bare_rate:.2f}x of baseline")  # fmt: skip
    verdict = "met" if rate >= TARGET else "MISSED"
    print(f"target >= {TARGET:.0f} escalations/s: {verdict}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    asyncio.run(main(parser.parse_args().tickets))
