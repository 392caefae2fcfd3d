"""kill -9 at the worst moments loses no escalation and sends nothing twice.

A real `python -m bot serve` process, with the fake Bot Connector, Graph and sign-in
running in the test. The request is confirmed, the process is killed while its
delivery is pending (after a 503) or in flight (the connector holding the call), then
started again on the same SQLite file: the row the dead process leased is sent again
once its lease has run out (tests/escalation/test_replicas.py does the same with two
processes on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.fakes import activities
from bot.fakes.connector import FakeConnector, Hold
from bot.fakes.graph import FakeGraph
from bot.fakes.identity import FakeIdentity
from tests.channels.conftest import actions_of, card_text, cards_in
from tests.channels.test_serve import free_port, wait_healthy
from tests.conftest import ROOT
from tests.escalation.conftest import ASKER, CLIENT, SECRET, SIGNING_KEY, directory, graph_env

# Every test runs once per Bot SDK; e2e: real server processes, killed and restarted.
pytestmark = [pytest.mark.usefixtures("bot_sdk"), pytest.mark.e2e]

QUESTION = "Can I share a photo of my team at the Parliament's garden party?"


def server_env(db: Path, identity: FakeIdentity, graph: FakeGraph) -> dict[str, str]:
    env = {
        **os.environ,
        "BOT_DATABASE_PATH": str(db),
        **graph_env(identity, graph),
        "CARD_SIGNING_KEY": SIGNING_KEY,
        # A row caught mid-send by the kill is taken over once its lease runs out.
        "BOT_OUTBOX_LEASE_SECONDS": "2",
        "BOT_OUTBOX_POLL_SECONDS": "0.5",
    }
    env.pop("MicrosoftAppId", None)
    return env


class Server:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: ASYNC220 - quick to start
            [sys.executable, "-m", "bot", "serve", "--port", str(self.port)],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        await wait_healthy(self.url, self.process)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()  # SIGKILL: no clean-up of any kind
        self.process.wait(timeout=10)

    async def terminate(self) -> int:
        """SIGTERM, then wait for the exit with the event loop free (the fakes it may
        still be calling run on it)."""
        assert self.process is not None
        process = self.process
        process.terminate()
        await until(lambda: process.poll() is not None)
        return process.returncode

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


async def confirm_escalation(server: Server, connector: FakeConnector) -> None:
    url = connector.service_url
    async with aiohttp.ClientSession() as http:

        async def post(activity: dict[str, Any], expect: Callable[[int], bool]) -> None:
            before = len(connector.sent)
            async with http.post(f"{server.url}/api/messages", json=activity) as response:
                assert response.status in (200, 201)
            await connector.wait_until(lambda s: expect(len(s) - before), timeout=10)

        await post(activities.message(QUESTION, ASKER, url), lambda n: n >= 1)
        [answer] = cards_in(connector.sent[-1:])
        offer = next(a for a in actions_of(answer) if a.get("data", {}).get("route"))
        await post(activities.card_submit(offer["data"], ASKER, url, "a-1"), lambda n: n >= 1)
        [preview] = cards_in(connector.sent[-1:])
        send = next(a for a in actions_of(preview) if a["title"] == "Send request")
        data = {**send["data"], "question": QUESTION, "consent": "true"}
        await post(activities.card_submit(data, ASKER, url, "a-2"), lambda n: n >= 1)


def outbox(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM outbox ORDER BY id").fetchall()


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:  # noqa: ASYNC109
    for _ in range(int(timeout / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition never held")


def requests_to_manager(connector: FakeConnector) -> list[dict[str, Any]]:
    return [
        c
        for c in cards_in([s for s in connector.sent if s.conversation_id.startswith("a:fake")])
        if "asks: is this OK to post?" in card_text(c)
    ]


def delivered_notices(connector: FakeConnector) -> list[dict[str, Any]]:
    return [c for c in cards_in(connector.sent) if "Delivered to Alex Boss" in card_text(c)]


def refuses_connections(port: int) -> bool:
    """Has the server closed its listening socket (the first step of its shutdown)?"""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


async def run_crash(tmp_path: Path, arrange: Callable[[FakeConnector], Hold | None],
                    crash_when: Callable[[list[sqlite3.Row]], bool],
                    graceful: bool = False) -> FakeConnector:  # fmt: skip
    """Events, not waits, order the crash: a held call is killed or stopped only once
    it is at the connector, let go only once the fake has seen its caller hang up (or the
    server has begun to shut down), and the count is taken once every row is done and the
    second server has stopped, so no send can still be on its way."""
    db = tmp_path / "bot.sqlite3"
    async with (
        FakeConnector() as connector,
        FakeIdentity(CLIENT, SECRET) as identity,
        FakeGraph() as graph,
    ):
        directory(graph)
        env = server_env(db, identity, graph)
        first, second = Server(env), Server(env)
        try:
            await first.start()
            hold = arrange(connector)
            await confirm_escalation(first, connector)
            await until(lambda: crash_when(outbox(db)))
            if hold is not None:
                await asyncio.wait_for(hold.arrived.wait(), 15)  # the call is in flight
            if graceful:
                assert first.process is not None
                assert hold is not None
                first.process.terminate()  # SIGTERM, as Container Apps sends on update
                process = first.process
                await until(lambda: refuses_connections(first.port))
                hold.release.set()  # the send in hand goes on while the server stops
                await until(lambda: process.poll() is not None)  # the fakes keep serving
                assert process.returncode == 0
                assert len(requests_to_manager(connector)) == 1, "the send in hand finished"
            else:
                first.kill()
                if hold is not None:
                    await until(hold.caller_gone)
                    hold.release.set()
                    await asyncio.wait_for(hold.ended.wait(), 15)  # dropped, unrecorded
                assert requests_to_manager(connector) == []
            await second.start()
            await until(lambda: len(delivered_notices(connector)) >= 1)
            await until(lambda: {r["state"] for r in outbox(db)} == {"done"})
            # SIGTERM: any send still in hand is finished and recorded before the count.
            assert await second.terminate() == 0
        finally:
            first.stop()
            second.stop()
        rows = outbox(db)
        assert {r["state"] for r in rows} == {"done"}, [dict(r) for r in rows]
        return connector


async def test_kill_while_delivery_waits_after_a_503_then_restart_sends_once(
    tmp_path: Path,
) -> None:
    def arrange(connector: FakeConnector) -> None:
        connector.fail_next(503, retry_after=1, path="/v3/conversations")

    def after_first_failure(rows: list[sqlite3.Row]) -> bool:
        return any(r["last_error"] and r["state"] == "pending" for r in rows)

    connector = await run_crash(tmp_path, arrange, after_first_failure)
    assert len(requests_to_manager(connector)) == 1
    assert len(delivered_notices(connector)) == 1


def mid_send(rows: list[sqlite3.Row]) -> bool:
    return any(r["state"] == "sending" for r in rows)


async def test_kill_in_the_middle_of_a_send_then_restart_sends_once(tmp_path: Path) -> None:
    connector = await run_crash(tmp_path, lambda c: c.hold_next("/v3/conversations"), mid_send)
    assert len(requests_to_manager(connector)) == 1
    assert len(delivered_notices(connector)) == 1


async def test_sigterm_finishes_the_send_in_hand_and_exits_cleanly(tmp_path: Path) -> None:
    connector = await run_crash(
        tmp_path, lambda c: c.hold_next("/v3/conversations"), mid_send, graceful=True
    )
    assert len(requests_to_manager(connector)) == 1
