"""The fuzz suite: seeded, bounded, hostile requests at real bot server processes.

Per Bot SDK (`BOT_SDK`), one server in local mode (`python -m bot serve`, web chat
stand-in mounted) and one authenticated (`tests.fuzz.target`: the same server with a
static outbound token and an empty directory, so nothing leaves 127.0.0.1). All get the
web part's token endpoints. Every endpoint is sent generated malformed or hostile
requests (tests/fuzz/corpus.py); throughout and after:

- no response is a 5xx, and none takes longer than HANG_SECONDS (a hang);
- the process stays alive, and /healthz answers within HANG_SECONDS between batches;
- no card the bot sent renders user text as markup (links, HTML, images);
- SIGTERM stops the server, and the SQLite file passes `PRAGMA integrity_check` with the
  feedback written before the fuzzing still in it.

HANG_SECONDS is stretched on a machine whose run queue is longer than its cores, as a
developer's shared one can be: there a judged message alone takes seconds. CI's machine
is idle, and the bound is 5 s; the report says which bound applied.

`FUZZ_SEED` and `FUZZ_COUNT` (probes sent to every server) change the run; a failure
prints the probes that failed, and FUZZ_REPORT keeps them whole, so they can be replayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import jwt
import pytest
import yarl

from bot.conversation.cards import CONTENT_TYPE as CARD_TYPE
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.channel_issuer import ISSUER, ChannelIssuer
from bot.fakes.connector import FakeConnector
from bot.fakes.directline import FakeDirectLine
from bot.settings import BotSdk
from tests.channels.conftest import actions_of, cards_in
from tests.conftest import ROOT
from tests.fuzz import corpus as c

SEED = int(os.environ.get("FUZZ_SEED", "15"))
SHARED = int(os.environ.get("FUZZ_COUNT", "300"))  # sent to every server
LOCAL_ONLY = SHARED // 2  # the web chat stand-in exists in local mode only
HANG_SECONDS = 5.0


def hang_bound() -> float:
    """HANG_SECONDS, times how overloaded this machine is right now (at most 8x)."""
    load = os.getloadavg()[0] / (os.cpu_count() or 1)
    return HANG_SECONDS * min(8.0, max(1.0, load))


CONCURRENCY = 2  # a judged message is CPU work: more at once measures the machine
HEALTH_EVERY = 40
APP_ID = "00000000-aaaa-4bbb-8ccc-00000000f022"
DL_SECRET = "fuzz-directline-secret"
ENTRA_ISSUER = "https://login.microsoftonline.com/fuzz-tenant/v2.0"
ENTRA_AUDIENCE = "api://adviser.fuzz/app"
ORIGIN = "https://parliament.sharepoint.com"


@dataclass
class Tally:
    sent: int = 0
    server_errors: list[str] = field(default_factory=list)
    hangs: list[str] = field(default_factory=list)
    broken: list[str] = field(default_factory=list)  # the connection failed: a crash?
    statuses: Counter[int] = field(default_factory=Counter)
    failing: Counter[str] = field(default_factory=Counter)  # 5xx and hangs by endpoint
    healthz_worst: float = 0.0
    cards: list[dict[str, Any]] = field(default_factory=list)
    failed_probes: list[c.Probe] = field(default_factory=list)
    bound: float = HANG_SECONDS  # seconds after which a request counts as hung
    slowest: float = 0.0
    over_five: int = 0  # answered, but later than 5 s (on a loaded machine)

    def summary(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "hang_bound_s": round(self.bound, 1),
            "slowest_s": round(self.slowest, 2),
            "over_5s": self.over_five,
            "5xx": len(self.server_errors),
            "hangs": len(self.hangs),
            "broken": len(self.broken),
            "healthz_worst_s": round(self.healthz_worst, 3),
            "statuses": dict(sorted(self.statuses.items())),
            "failing": dict(self.failing),
        }


@dataclass
class Server:
    mode: str
    url: str
    process: subprocess.Popen[bytes]
    database: Path
    log: Path


@dataclass
class World:
    """The stand-ins every server talks to, and how to mint what a probe needs."""

    connector: FakeConnector
    directline: FakeDirectLine
    issuer: ChannelIssuer
    http: aiohttp.ClientSession
    values: dict[str, str] = field(default_factory=dict)
    fresh: list[str] = field(default_factory=list)  # unused local tokens
    canary: str = ""  # the card id of the feedback row that must survive the fuzzing

    def entra(self, oid: str) -> str:
        now = int(time.time())
        claims = {"iss": ENTRA_ISSUER, "aud": ENTRA_AUDIENCE, "oid": oid, "name": "Fuzz",
                  "iat": now - 5, "nbf": now - 5, "exp": now + 3600}  # fmt: skip
        key, kid = self.issuer.key, self.issuer.kid
        return "Bearer " + jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    def fill(self, probe: c.Probe, server: Server) -> tuple[str, dict[str, str], bytes | None]:
        values = {
            c.CONNECTOR: self.connector.service_url,
            c.SELF: server.url,
            c.ENTRA_JWT: self.entra("aad-fuzz"),
            **self.values,
        }
        if c.FRESH_TOKEN in probe.path + json.dumps(probe.headers):
            values[c.FRESH_TOKEN] = self.fresh.pop() if self.fresh else "used-up"
        body = probe.body
        path = probe.path
        for name, value in values.items():
            if body is not None:
                body = body.replace(name.encode(), value.encode())
            path = path.replace(name, value)
        headers = {}
        for key, value in probe.headers.items():
            for name, filled in values.items():
                value = value.replace(name, filled)
            if c.CHANNEL_JWT in value:
                value = value.replace(c.CHANNEL_JWT, self.channel_token(body))
            headers[key] = value
        return path, headers, body

    def channel_token(self, body: bytes | None) -> str:
        """A valid Bot Framework token for the activity's serviceUrl, as Azure Bot signs."""
        service_url = self.connector.service_url
        with contextlib.suppress(ValueError, RecursionError):
            parsed = json.loads(body or b"")
            if isinstance(parsed, dict) and isinstance(parsed.get("serviceUrl"), str):
                service_url = parsed["serviceUrl"]
        return "Bearer " + self.issuer.token(APP_ID, service_url)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def launch(mode: str, tmp_path: Path, world: World) -> Server:
    port = free_port()
    database = tmp_path / f"{mode}.sqlite3"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "BOT_DATABASE_PATH": str(database),
        "BOT_LOG_FORMAT": "json",
        "BOT_TYPING_DELAY_MS": "10000",
        "DIRECTLINE_SECRET": DL_SECRET,
        "DIRECTLINE_ENDPOINT": world.directline.endpoint,
        "WEBCHAT_API_AUDIENCE": ENTRA_AUDIENCE,
        "WEBCHAT_TOKEN_ISSUER": ENTRA_ISSUER,
        "WEBCHAT_JWKS_URL": f"{world.issuer.base_url}/v1/.well-known/keys",
        "WEBCHAT_ALLOWED_ORIGINS": ORIGIN,
        "WEBCHAT_TOKENS_PER_MINUTE": "1000",
    }
    for name in list(env):
        if name.startswith(("Microsoft", "GRAPH_", "DCCT_", "BOT_CHANNEL_")):
            del env[name]
    if mode == "local":
        command = [sys.executable, "-m", "bot", "serve", "--port", str(port)]
    else:
        env |= {
            "MicrosoftAppId": APP_ID,
            "MicrosoftAppPassword": "not-a-real-secret",
            "MicrosoftAppType": "MultiTenant",
            "BOT_CHANNEL_OPENID_METADATA_URL": world.issuer.metadata_url,
            "BOT_CHANNEL_TOKEN_ISSUER": ISSUER,
            "CARD_SIGNING_KEY": "f" * 40,
        }
        command = [sys.executable, "-m", "tests.fuzz.target", "--port", str(port)]
    log = tmp_path / f"{mode}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)
    return Server(mode, f"http://127.0.0.1:{port}", process, database, log)


async def wait_healthy(server: Server, http: aiohttp.ClientSession) -> None:
    for _ in range(300):
        assert server.process.poll() is None, server.log.read_text()[-3000:]
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{server.url}/healthz") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{server.mode} server never became healthy")


def stop(server: Server) -> bool:
    """SIGTERM, as the container runtime sends; True if the process ended by itself."""
    if server.process.poll() is not None:
        return True
    server.process.send_signal(signal.SIGTERM)
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()
        return False
    return True


async def prepare(server: Server, world: World) -> None:
    """What probes refer to: Direct Line tokens the bot issued, a local conversation,
    and a canary feedback row that must survive the fuzzing."""
    http = world.http
    for oid, name in (("aad-fuzz", c.DL_TOKEN), ("aad-victim", c.OTHER_DL_TOKEN)):
        headers = {"Authorization": world.entra(oid)}
        async with http.post(f"{server.url}/api/directline/token", headers=headers) as r:
            assert r.status == 200, await r.text()
            world.values[name] = (await r.json())["token"]
    user = TeamsUser()
    url = world.connector.service_url

    async def post(activity: dict[str, Any]) -> None:
        headers = {}
        if server.mode != "local":
            headers = {"Authorization": "Bearer " + world.issuer.token(APP_ID, url)}
        async with http.post(f"{server.url}/api/messages", json=activity, headers=headers) as r:
            assert r.status in (200, 201), await r.text()

    # The canary: feedback given with the answer card's own (signed) button.
    before = len(world.connector.sent)
    await post(activities.message("Can I like a post by my MSP friend?", user, url))
    sent = await world.connector.wait_until(lambda s: bool(cards_in(s[before:])), timeout=30)
    helpful = next(a for a in actions_of(cards_in(sent[before:])[0]) if a["title"] == "👍 Helpful")
    await post(activities.card_submit(helpful["data"], user, url, reply_to="canary-activity"))
    with contextlib.closing(sqlite3.connect(server.database)) as db:
        [(world.canary,)] = db.execute("SELECT card_id FROM feedback WHERE helpful = 1")
    if server.mode != "local":
        return
    async with http.post(f"{server.url}/chat/token") as r:
        token = (await r.json())["token"]
    auth = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{server.url}/v3/directline/conversations", headers=auth) as r:
        world.values[c.CID] = (await r.json())["conversationId"]
    world.values[c.LOCAL_TOKEN] = token
    for _ in range(40):
        async with http.post(f"{server.url}/chat/token") as r:
            world.fresh.append((await r.json())["token"])


async def send(server: Server, world: World, probe: c.Probe, tally: Tally) -> None:
    path, headers, body = world.fill(probe, server)
    url = yarl.URL(server.url + path, encoded=True)
    skip = () if "Content-Type" in headers else ("Content-Type",)
    started = time.monotonic()
    tally.sent += 1
    try:
        async with asyncio.timeout(tally.bound):
            async with world.http.request(
                probe.method, url, headers=headers, data=body, skip_auto_headers=skip
            ) as response:
                payload = await response.read()
        took = time.monotonic() - started
        tally.slowest = max(tally.slowest, took)
        tally.over_five += took > HANG_SECONDS
    except TimeoutError:
        tally.hangs.append(f"{time.monotonic() - started:.1f}s {probe.describe()}")
        tally.failed_probes.append(probe)
        tally.failing[probe.label] += 1
        return
    except aiohttp.ClientError as exc:
        tally.broken.append(f"{type(exc).__name__} {probe.describe()}")
        return
    tally.statuses[response.status] += 1
    if response.status >= 500:
        tally.server_errors.append(f"{response.status} {payload[:200]!r} {probe.describe()}")
        tally.failed_probes.append(probe)
        tally.failing[probe.label] += 1
    with contextlib.suppress(ValueError):
        answer = json.loads(payload)
        if isinstance(answer, dict) and answer.get("type") == CARD_TYPE:
            tally.cards.append(answer["value"])  # an invoke response's card


async def healthz(server: Server, world: World, tally: Tally) -> None:
    started = time.monotonic()
    try:
        async with asyncio.timeout(tally.bound):
            async with world.http.get(f"{server.url}/healthz") as response:
                await response.read()
                ok = response.status == 200
    except (TimeoutError, aiohttp.ClientError):
        ok = False
    took = time.monotonic() - started
    tally.healthz_worst = max(tally.healthz_worst, took)
    if not ok:
        tally.hangs.append(f"/healthz did not answer 200 within {tally.bound:.0f}s")


async def fuzz(server: Server, world: World, probes: list[c.Probe], tally: Tally) -> None:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(probe: c.Probe) -> None:
        async with gate:
            await send(server, world, probe, tally)

    for start in range(0, len(probes), HEALTH_EVERY):
        batch = probes[start : start + HEALTH_EVERY]
        await asyncio.gather(*(one(p) for p in batch))
        await healthz(server, world, tally)
        assert server.process.poll() is None, f"the {server.mode} server died"


async def cards_seen(server: Server, world: World) -> list[dict[str, Any]]:
    """Every card the bot sent: to the fake Bot Connector, and in the local conversation."""
    sent = list(world.connector.activities())
    if server.mode == "local" and c.CID in world.values:
        auth = {"Authorization": f"Bearer {world.values[c.LOCAL_TOKEN]}"}
        url = f"{server.url}/v3/directline/conversations/{world.values[c.CID]}/activities"
        async with world.http.get(url, headers=auth) as r:
            if r.status == 200:
                sent += [
                    a
                    for a in (await r.json())["activities"]
                    if isinstance(a, dict) and a.get("from", {}).get("role") == "bot"
                ]
    attachments = [a.get("attachments") for a in sent if isinstance(a, dict)]
    return [
        a["content"]
        for found in attachments
        if isinstance(found, list)
        for a in found
        if isinstance(a, dict) and isinstance(a.get("content"), dict)
    ]


def rendered_texts(node: Any) -> Iterator[str]:
    """Text a card client renders as Markdown: TextBlock text, FactSet values, TextRuns."""
    if isinstance(node, dict):
        if node.get("type") in ("TextBlock", "TextRun") and isinstance(node.get("text"), str):
            yield node["text"]
        if node.get("type") == "FactSet":
            for fact in node.get("facts") or []:
                if isinstance(fact, dict):
                    yield str(fact.get("value", ""))
        for value in node.values():
            yield from rendered_texts(value)
    elif isinstance(node, list):
        for item in node:
            yield from rendered_texts(item)


def unescaped(cards: list[dict[str, Any]]) -> list[str]:
    return [
        text[:200]
        for card in cards
        for text in rendered_texts(card)
        if any(re.search(marker, text) for marker in c.UNESCAPED)
    ]


def database_problems(path: Path, canary: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as db:
        problems = [row[0] for row in db.execute("PRAGMA integrity_check") if row[0] != "ok"]
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        problems += [f"table {t} is missing" for t in {"feedback", "tickets", "outbox"} - tables]
        if "feedback" in tables:
            rows = db.execute("SELECT helpful FROM feedback WHERE card_id = ?", (canary,))
            if [tuple(r) for r in rows] != [(1,)]:
                problems.append("the canary feedback row is gone or changed")
    return problems


@pytest.fixture
async def world() -> AsyncIterator[World]:
    issuer = ChannelIssuer().start()
    try:
        async with (
            FakeConnector() as connector,
            FakeDirectLine(DL_SECRET) as directline,
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
        ):
            yield World(connector, directline, issuer, http)
    finally:
        issuer.stop()


@pytest.mark.e2e
@pytest.mark.parametrize("mode", ["local", "authenticated"])
async def test_hostile_requests_get_4xx_and_the_server_holds(
    mode: str, bot_sdk: BotSdk, world: World, tmp_path: Path
) -> None:
    # bot_sdk has set BOT_SDK, which the server process inherits.
    server = launch(mode, tmp_path, world)
    tally = Tally(bound=hang_bound())
    stopped = False
    probes: list[c.Probe] = []
    try:
        # Generating takes seconds of CPU: do it while the server loads its knowledge.
        probes = c.REPRODUCERS + c.corpus("shared", SHARED, SEED)
        if mode == "local":
            probes += c.LOCAL_REPRODUCERS + c.corpus("local-only", LOCAL_ONLY, SEED + 1)
        await wait_healthy(server, world.http)
        await prepare(server, world)
        await fuzz(server, world, probes, tally)
        tally.cards += await cards_seen(server, world)
    finally:
        stopped = stop(server)
        digest = hashlib.sha256(repr(probes).encode()).hexdigest()[:12] if probes else ""
        report = {"mode": mode, "sdk": bot_sdk.value, "seed": SEED, "corpus": digest,
                  **tally.summary(), "sigterm_stops": stopped}  # fmt: skip
        print("fuzz:", json.dumps(report))  # noqa: T201 - the figures, kept by -s or -rA
        if os.environ.get("FUZZ_REPORT"):  # where to keep the figures, for a person
            with Path(os.environ["FUZZ_REPORT"]).open("a") as out:  # noqa: ASYNC230 - tiny
                out.write(json.dumps(report) + "\n")
                for probe in tally.failed_probes:  # whole, to send again by hand
                    body = (probe.body or b"").decode("utf-8", "backslashreplace")
                    failed = {"method": probe.method, "path": probe.path, "body": body}
                    out.write(json.dumps({"failed": failed, "headers": probe.headers}) + "\n")
    failures = tally.server_errors + tally.hangs + tally.broken
    assert not failures, f"{len(failures)} failed of {tally.sent}:\n" + "\n".join(failures[:25])
    assert tally.sent >= SHARED
    assert stopped, "SIGTERM did not stop the server"
    assert not unescaped(tally.cards), unescaped(tally.cards)[:5]
    assert tally.cards, "no card was seen: the probes never reached the dialogue"
    problems = database_problems(server.database, world.canary)
    assert not problems, problems


def test_the_corpus_is_the_same_for_a_seed_and_hostile() -> None:
    first, again = c.corpus("shared", 60, 3), c.corpus("shared", 60, 3)
    assert first == again
    assert c.corpus("shared", 60, 4) != first
    shared = c.corpus("shared", 300, 3)
    assert {p.label for p in shared} == {"api/messages", "directline/token", "elsewhere"}
    assert any(p.body and p.body.startswith(b"[[[[") for p in shared)
    assert {p.label for p in c.corpus("local-only", 20, 3)} == {"local directline"}


def test_the_markup_check_finds_unescaped_text() -> None:
    card = {"body": [{"type": "TextBlock", "text": "see [pwn](https://evil.example/x)"}]}
    escaped = {"body": [{"type": "TextBlock", "text": r"see \[pwn\]\(https://evil\.example/x\)"}]}
    assert unescaped([card])
    assert not unescaped([escaped])
    html = {"body": [{"type": "TextBlock", "text": "a <img src=x>"}]}
    assert unescaped([html])
    assert not unescaped([{"body": [{"type": "TextBlock", "text": r"a \<img src=x\>"}]}])
