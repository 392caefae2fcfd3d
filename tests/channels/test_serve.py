"""`python -m bot serve` as a newcomer runs it: a real process, then `poke` talks to it."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.conversation.labels import VERDICTS
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.harness import poke
from tests.conftest import ROOT

# Every test runs once per Bot SDK; e2e: real `python -m bot serve` processes.
pytestmark = [pytest.mark.usefixtures("bot_sdk"), pytest.mark.e2e]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    port: int
    env: dict[str, str]  # what it was started with

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve(tmp_path: Path, output: int, **env: str) -> Served:
    """`python -m bot serve` in local mode on a free port, its database in `tmp_path`; its
    output to `output` (a pipe, with standard error joined to it, or nowhere)."""
    port = free_port()
    environ = {**os.environ, "BOT_DATABASE_PATH": str(tmp_path / "bot.sqlite3"), **env}
    environ.pop("MicrosoftAppId", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", "--port", str(port)],
        cwd=ROOT,
        env=environ,
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    return Served(process, port, environ)


async def wait_healthy(url: str, process: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):  # up to a minute: the judge loads slowly on a loaded machine
            assert process.poll() is None, "server exited during start-up"
            try:
                async with http.get(f"{url}/healthz") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("server never became healthy")


async def test_serve_then_poke_gets_an_answer_card(tmp_path: Path) -> None:
    served = serve(tmp_path, subprocess.PIPE, BOT_LOG_FORMAT="json")
    process, url, port, env = served.process, served.url, served.port, served.env
    try:
        await wait_healthy(url, process)
        raw = io.StringIO()
        assert await poke(url, "Can I post a selfie taken at my desk?", raw, raw=True) == 0
        assert "application/vnd.microsoft.card.adaptive" in raw.getvalue()
        # As a newcomer runs it: the address comes from PORT, the card shows as text.
        poked = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "poke", "Can I post a selfie taken at my desk?",
            cwd=ROOT, env={**env, "PORT": str(port)},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        shown, errors = await asyncio.wait_for(poked.communicate(), timeout=60)
        assert poked.returncode == 0, errors.decode()
        screen = shown.decode()
        assert any(label.badge in screen for label in VERDICTS.values())
        assert "[Ask my line manager]" in screen
        assert "application/vnd.microsoft.card.adaptive" not in screen
    finally:
        process.terminate()
        logs, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    text = logs.decode()
    assert "LOCAL MODE" in text
    assert "advice.given" in text
    assert f"http://127.0.0.1:{port}/chat" in text, "the server says where to open the chat"
    assert f"http://127.0.0.1:{port}/api/messages" in text
    assert "selfie" not in text, "question text must never be logged"


def test_serve_refuses_to_start_with_a_missing_secret(tmp_path: Path) -> None:
    env = {**os.environ, "MicrosoftAppId": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
           "MicrosoftAppTenantId": "contoso.onmicrosoft.com"}  # fmt: skip
    env.pop("MicrosoftAppPassword", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "--port", str(free_port())],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "MicrosoftAppPassword" in result.stderr


async def test_sigterm_stops_the_server_while_a_reply_hangs(tmp_path: Path) -> None:
    """A reply to a Bot Connector that never answers holds a request open; SIGTERM must
    still stop the server (after its shutdown grace), not wait for that request."""
    accepted: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # keep the connection open, say nothing

    black_hole = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    hole_port = black_hole.sockets[0].getsockname()[1]
    served = serve(tmp_path, subprocess.DEVNULL)
    process, url = served.process, served.url
    try:
        await wait_healthy(url, process)
        activity = activities.message("hello", TeamsUser(), f"http://127.0.0.1:{hole_port}/")
        async with aiohttp.ClientSession() as http:
            pending = asyncio.ensure_future(http.post(f"{url}/api/messages", json=activity))
            for _ in range(100):  # until the bot is stuck sending its reply
                if accepted:
                    break
                await asyncio.sleep(0.05)
            assert accepted, "the bot never tried to reply"
            process.send_signal(signal.SIGTERM)
            returncode = await asyncio.to_thread(process.wait, 30)
            pending.cancel()
        assert returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        black_hole.close()
        for writer in accepted:
            writer.close()
