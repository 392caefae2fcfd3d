"""Escalation delivery throughput: how fast the outbox drains a backlog.

    python bench/bench_outbox.py [--tickets N]

Writes N confirmed escalations (ticket + outbox row, one transaction each), then lets
the real worker deliver them to a fake Bot Connector on 127.0.0.1: each escalation is a
request card to the expert, its ticket update, and the "delivered" notice to the asker
(two sends; a claim, a ticket change and a settle per send). Rows, in the same run:

- bare sends: the same number of sends through the same Bot Connector client with no
  database (the baseline);
- SQLite, one worker (the embedded default, one replica);
- PostgreSQL with one worker, and with two (two replicas' workers, each with its own
  connection pool, claiming with SKIP LOCKED), on a throwaway local server that keeps
  fsync and synchronous commits on, as production does.

Target: >= 50 escalations/s, Teams' per-app send limit, so the database is never what
holds delivery back. The fake connector shares this process's event loop with the
workers, so the ratios compare stores, not absolute capacity.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.clock import SystemClock
from bot.connector import BotConnectorClient
from bot.conversation.signing import CardSigner
from bot.conversation.types import Person
from bot.core.types import Advice, Route, Verdict
from bot.escalation import lifecycle
from bot.escalation.delivery import DcctRoute, Deliveries, DeliveryConfig
from bot.escalation.lifecycle import Change, LateRules
from bot.escalation.store import TicketStore
from bot.escalation.worker import OutboxWorker
from bot.fakes.connector import FakeConnector
from bot.fakes.postgres import PostgresServer
from bot.http import RetryPolicy
from bot.settings import TEAMS_PUBLIC_CLOUD
from bot.store.database import Database
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SqliteDatabase

TARGET = 50.0
RULES = LateRules(8, 16, can_reroute=False, mailed_close_after=timedelta(days=5))
ADVICE = Advice(Verdict.ASK, ("D9", "F1"), None, 0.5, Route.LINE_MANAGER, "", "sha256:bench")


def confirmed(number: int, service_url: str) -> Change:
    asker = Person(
        f"29:user-{number}", "Morag", f"aad-{number}", "t", "msteams",
        {"serviceUrl": service_url, "conversation": {"id": f"a:c{number}"},
         "bot": {"id": "28:bot"}},
    )  # fmt: skip
    question = "Can I post a photo from the garden party?"
    return lifecycle.confirmed(asker, Route.LINE_MANAGER, question, ADVICE, "", datetime.now(UTC))


async def _no_token() -> None:
    return None


async def baseline(connector: FakeConnector, sends: int) -> float:
    async with aiohttp.ClientSession() as session:
        client = BotConnectorClient(session, _no_token, RetryPolicy(attempts=1))
        started = time.perf_counter()
        for number in range(sends):
            await client.send(connector.service_url, f"a:c{number}", {"type": "message"})
        return time.perf_counter() - started


async def drain(worker: OutboxWorker, store: TicketStore, total_rows: int) -> None:
    """Drain until every row is done (the notices are queued while requests go out)."""
    while True:
        if await worker.drain():
            continue
        if (await store.outbox_counts()).get("done", 0) >= total_rows:
            return
        await asyncio.sleep(0.005)


async def outbox(connector: FakeConnector, tickets: int, databases: list[Database]) -> float:
    for db in databases:
        await db.open()
    writer = TicketStore(databases[0])
    for number in range(tickets):
        await writer.create(confirmed(number, connector.service_url))
    async with aiohttp.ClientSession() as session:
        client = BotConnectorClient(session, _no_token, RetryPolicy(attempts=1))
        workers = []
        for index, db in enumerate(databases):
            store = TicketStore(db)
            deliveries = Deliveries(
                store, CardSigner.ephemeral(), SystemClock(), lambda: client, lambda: None,
                DeliveryConfig(DcctRoute("", "", "", "", ""), "", TEAMS_PUBLIC_CLOUD),
            )  # fmt: skip
            worker = OutboxWorker(store, deliveries, SystemClock(), RULES, name=f"bench-{index}",
                                  sweep_seconds=3600, batch=20)  # fmt: skip
            workers.append((worker, store))
        started = time.perf_counter()
        await asyncio.gather(*(drain(w, s, 2 * tickets) for w, s in workers))
        elapsed = time.perf_counter() - started
    counts = await writer.outbox_counts()
    for db in databases:
        await db.close()
    assert counts == {"done": 2 * tickets}, counts
    return elapsed


async def main(tickets: int) -> None:
    async with FakeConnector() as connector:
        connector.record_limit = 100
        with tempfile.TemporaryDirectory() as folder, PostgresServer(durable=True) as server:
            bare = await baseline(connector, 2 * tickets)
            rows: list[tuple[str, float | None]] = [("bare sends (baseline)", None)]
            sqlite = await outbox(connector, tickets, [SqliteDatabase(Path(folder) / "b.db")])
            rows.append(("SQLite, 1 worker", sqlite))
            url = server.create_database()
            one = await outbox(connector, tickets, [PostgresDatabase(url)])
            rows.append(("PostgreSQL, 1 worker", one))
            url = server.create_database()
            two = await outbox(connector, tickets, [PostgresDatabase(url), PostgresDatabase(url)])
            rows.append(("PostgreSQL, 2 workers", two))
    bare_rate = 2 * tickets / bare
    print(f"escalations: {tickets}  (2 sends each), same run")
    for name, elapsed in rows:
        if elapsed is None:
            print(f"{name:24}: {bare_rate:8.0f} sends/s")
            continue
        rate = tickets / elapsed
        verdict = "met" if rate >= TARGET else "MISSED"
        print(f"{name:24}: {rate:8.0f} escalations/s = {2 * rate:5.0f} sends/s  "
              f"ratio {2 * rate / bare_rate:.2f}x of bare sends, "
              f"{sqlite / elapsed:.2f}x of SQLite  (target {TARGET:.0f}/s: {verdict})")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=500)
    asyncio.run(main(parser.parse_args().tickets))
