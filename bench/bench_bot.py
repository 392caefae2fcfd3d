"""Throughput of the bot over HTTP: activities per second through POST /api/messages.

    python bench/bench_bot.py [--seconds S] [--concurrency C]

Starts, as separate processes on 127.0.0.1, the real bot server (local mode) and a fake
Bot Connector that its replies go to; then drives Teams message activities at it from
this process for S seconds. The baseline, measured in the same run with the same load
generator, is a bare aiohttp endpoint that answers 201 at once. Each bot activity is a
full turn: parse, authenticate (local mode), advise, build the card and POST the reply
to the connector before the request completes. Target: >= 500 activities/s.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from bot.fakes import activities
from bot.fakes.activities import TeamsUser

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [
    "Can I share a Parliament press release on my own LinkedIn?",
    "is it ok to post a photo of my desk on insta",
    "Can I say which party I vote for on my personal account?",
    'Can I post this? "Three days on Skye with the kids, midges and all!"',
    "can i criticise an MSP on twitter",
    "hello",
]

ECHO = """
import sys
from aiohttp import web
async def ok(request):
    await request.read()
    return web.Response(status=201)
app = web.Application()
app.router.add_post("/api/messages", ok)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None, access_log=None)
"""

CONNECTOR = """
import asyncio, sys
from bot.fakes.connector import FakeConnector
async def main():
    connector = FakeConnector(port=int(sys.argv[1]))
    connector.record_limit = 1000
    await connector.start()
    await asyncio.Event().wait()
asyncio.run(main())
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_up(url: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(200):
            try:
                async with http.get(url) as response:
                    await response.read()
                    return
            except aiohttp.ClientError:
                await asyncio.sleep(0.05)
    raise RuntimeError(f"{url} never came up")


async def drive(url: str, service_url: str, seconds: float, concurrency: int) -> tuple[int, int]:
    """Post activities for `seconds`; return (succeeded, failed)."""
    rng = random.Random(7)
    done = failed = 0
    deadline = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(number: int) -> None:
            nonlocal done, failed
            user = TeamsUser(id=f"29:bench-{number}", conversation_id=f"a:bench;{number}")
            while time.perf_counter() < deadline:
                activity = activities.message(rng.choice(QUESTIONS), user, service_url)
                async with http.post(url, json=activity) as response:
                    await response.read()
                    if response.status in (200, 201):
                        done += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker(n) for n in range(concurrency)))
    return done, failed


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


async def main(seconds: float, concurrency: int) -> None:
    tmp = tempfile.mkdtemp()
    env = {
        **os.environ,
        "BOT_DATABASE_PATH": f"{tmp}/bench.sqlite3",
        "BOT_LOG_LEVEL": "WARNING",
    }
    env.pop("MicrosoftAppId", None)
    echo_port, bot_port, connector_port = free_port(), free_port(), free_port()
    processes = [
        start([sys.executable, "-c", ECHO, str(echo_port)], env),
        start([sys.executable, "-c", CONNECTOR, str(connector_port)], env),
        start([sys.executable, "-m", "bot", "serve", "--port", str(bot_port)], env),
    ]
    try:
        service_url = f"http://127.0.0.1:{connector_port}/"
        await wait_up(f"http://127.0.0.1:{bot_port}/healthz")
        await wait_up(f"http://127.0.0.1:{echo_port}/")
        await wait_up(f"{service_url}v3/conversations/x/members")
        echo_url = f"http://127.0.0.1:{echo_port}/api/messages"
        bot_url = f"http://127.0.0.1:{bot_port}/api/messages"
        await drive(bot_url, service_url, 1.0, concurrency)  # warm up
        echo_ok, _ = await drive(echo_url, service_url, seconds, concurrency)
        bot_ok, bot_failed = await drive(bot_url, service_url, seconds, concurrency)
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
    echo_rate, bot_rate = echo_ok / seconds, bot_ok / seconds
    print(f"cores: {os.cpu_count()}  concurrency: {concurrency}  seconds: {seconds}")
    print(f"bare aiohttp echo : {echo_rate:8.0f} requests/s (baseline)")
    print(
        f"bot /api/messages : {bot_rate:8.0f} activities/s  "
        f"ratio {bot_rate / echo_rate:.2f}x of baseline  failed {bot_failed}"
    )
    print(f"target >= 500 activities/s: {'met' if bot_rate >= 500 else 'NOT met'}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    asyncio.run(main(options.seconds, options.concurrency))
