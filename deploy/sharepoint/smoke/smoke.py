"""Smoke test of the BUILT web part in headless Chromium (optional; needs a build and Chromium).

    bash deploy/sharepoint/build.sh
    .venv/bin/python deploy/sharepoint/smoke/smoke.py [--out DIR]

Everything stays on 127.0.0.1: this serves page.html (the bundle from dist/ with SharePoint's
modules stubbed), a fake bot backend (POST /api/directline/token and /refresh), and a fake
Direct Line service over HTTPS with a throwaway certificate; Chromium is told that
directline.botframework.com is that server. The fake bot answers with the real adviser's
Adaptive Cards (bot.core + bot.conversation.cards): the welcome when the web part says
`webchat/join`, an answer card, and a replacing card (`channelData.replacesActivity`) for a
feedback press, as the bot's activity protocol sends them. Screenshots go to --out. Prints
"N passed, N failed" and exits non-zero on a failure.
"""

# A script, run by hand: it prints, and its few blocking calls (openssl, writing screenshots)
# happen while nothing else waits.
# ruff: noqa: T201, ASYNC221, ASYNC240

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import ClientSession, WSMsgType, web

HERE = Path(__file__).resolve().parent
SPFX = HERE.parent
ROOT = SPFX.parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.activity_protocol.outbound import ACTIVITY_KEY, REPLACES  # noqa: E402
from bot.channels.activity_protocol.turns import JOIN_EVENT  # noqa: E402
from bot.conversation.cards import answer_card, welcome_card  # noqa: E402
from bot.core import Adviser  # noqa: E402

USER_ID = "dl_00000000-0000-0000-0000-00000000abcd"
DIRECTLINE_HOST = "directline.botframework.com"


def b64url(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_token(conversation: str) -> str:
    """JWT-shaped, as Direct Line's: Web Chat reads the user id from its "user" claim."""
    claims = {"user": USER_ID, "conv": conversation, "n": uuid.uuid4().hex}
    return f"{b64url({'alg': 'none'})}.{b64url(claims)}.x"


def conversation_of(token: str) -> str:
    part = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["conv"])


class Fakes:
    """The bot backend's token endpoints and a Direct Line service, with switchable failures."""

    def __init__(self, adviser: Adviser) -> None:
        self.adviser = adviser
        self.token_status = 200
        self.directline_fails = False
        self.calls: list[str] = []
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.sockets: dict[str, list[web.WebSocketResponse]] = {}
        self.welcomed: set[str] = set()
        self.asked: dict[str, str] = {}

    # -- the bot backend
    async def token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.calls.append(request.path)
        if not request.headers.get("Authorization", "").startswith("Bearer entra-token-for api://"):
            return web.json_response({"error": "no token"}, status=401)
        if self.token_status != 200:
            return web.json_response({"error": "switched off"}, status=self.token_status)
        conversation = conversation_of(body["token"]) if body.get("token") else uuid.uuid4().hex
        return web.json_response(
            {
                "token": fake_token(conversation),
                "conversationId": conversation,
                "expires_in": 3600,
                "userId": USER_ID,
            }
        )

    # -- Direct Line
    @staticmethod
    def cors(response: web.StreamResponse) -> web.StreamResponse:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "*"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        return response

    async def preflight(self, request: web.Request) -> web.StreamResponse:
        return self.cors(web.Response())

    async def start(self, request: web.Request) -> web.StreamResponse:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.calls.append("directline start")
        if self.directline_fails:
            return self.cors(web.json_response({"error": {"code": "BotError"}}, status=502))
        conversation = conversation_of(token)
        self.history.setdefault(conversation, [])
        stream = (
            f"wss://directline.botframework.com/v3/directline/conversations/{conversation}/stream"
        )
        return self.cors(
            web.json_response(
                {"conversationId": conversation, "token": token, "streamUrl": stream},
                status=201,
            )
        )

    async def stream(self, request: web.Request) -> web.WebSocketResponse:
        conversation = request.match_info["conversation"]
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.setdefault(conversation, []).append(ws)
        async for message in ws:
            if message.type == WSMsgType.ERROR:
                break
        self.sockets[conversation].remove(ws)
        return ws

    async def push(self, conversation: str, activity: dict[str, Any]) -> None:
        history = self.history.setdefault(conversation, [])
        history.append(activity)
        activity["id"] = f"{conversation}|{len(history):07d}"
        payload = json.dumps({"activities": [activity], "watermark": str(len(history))})
        for ws in list(self.sockets.get(conversation, [])):
            await ws.send_str(payload)

    async def post(self, request: web.Request) -> web.StreamResponse:
        conversation = request.match_info["conversation"]
        activity = await request.json()
        self.calls.append(f"activity {activity.get('type')}")
        activity["from"] = {"id": USER_ID, "name": activity.get("from", {}).get("name")}
        activity["timestamp"] = "2026-01-05T10:00:00Z"
        await self.push(conversation, activity)
        value = activity.get("value") or {}
        text = activity.get("text") or value.get("question") or ""
        if activity.get("type") == "event" and activity.get("name") == JOIN_EVENT:
            if conversation not in self.welcomed:  # the bot welcomes once per conversation
                self.welcomed.add(conversation)
                await self.push(conversation, self.reply(welcome_card(30)))
        elif activity.get("type") == "message" and value.get("action") == "feedback":
            # As the bot does: the answer card again, thanked and without feedback buttons,
            # in the pressed card's place.
            advice = self.adviser.advise(self.asked[conversation])
            card = answer_card(advice, self.adviser.knowledge, state="smoke", feedback="helpful")
            replaces = {REPLACES: value.get(ACTIVITY_KEY)}
            await self.push(conversation, self.reply(card, channelData=replaces))
        elif activity.get("type") == "message" and text:
            self.asked[conversation] = text
            advice = self.adviser.advise(text)
            card = answer_card(advice, self.adviser.knowledge, state="smoke")
            await self.push(conversation, self.reply(card))
        return self.cors(web.json_response({"id": activity["id"]}))

    @staticmethod
    def reply(card: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {
            "type": "message",
            "from": {"id": "adviser", "name": "Adviser", "role": "bot"},
            "timestamp": "2026-01-05T10:00:01Z",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
            **extra,
        }


def page_app(fakes: Fakes) -> web.Application:
    (bundle,) = sorted((SPFX / "dist").glob("social-media-adviser-web-part_*.js"))
    files = {
        "/": HERE / "page.html",
        "/bundle.js": bundle,
        "/strings.js": SPFX / "lib" / "webparts" / "socialMediaAdviser" / "loc" / "en-us.js",
        "/react.js": SPFX / "node_modules" / "react" / "umd" / "react.production.min.js",
        "/react-dom.js": SPFX
        / "node_modules"
        / "react-dom"
        / "umd"
        / "react-dom.production.min.js",
    }
    app = web.Application()
    for path, file in files.items():
        app.router.add_get(path, lambda _r, f=file: web.FileResponse(f))
    app.router.add_post("/api/directline/token", fakes.token)
    app.router.add_post("/api/directline/token/refresh", fakes.token)
    return app


def directline_app(fakes: Fakes) -> web.Application:
    app = web.Application()
    app.router.add_route("OPTIONS", "/{tail:.*}", fakes.preflight)
    app.router.add_post("/v3/directline/conversations", fakes.start)
    app.router.add_get("/v3/directline/conversations/{conversation}/stream", fakes.stream)
    app.router.add_post("/v3/directline/conversations/{conversation}/activities", fakes.post)
    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """Headless Chromium over the DevTools protocol: one page, evaluate, screenshot."""

    def __init__(self, directline_port: int) -> None:
        self.profile = tempfile.mkdtemp(prefix="smoke-chromium-")
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            raise SystemExit("Chromium not found (Debian: apt-get install chromium)")
        self.process = subprocess.Popen(  # noqa: S603
            [
                chromium,
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "--ignore-certificate-errors",
                f"--host-resolver-rules=MAP {DIRECTLINE_HOST} 127.0.0.1:{directline_port}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.next_id = 0

    async def open(self, session: ClientSession) -> None:
        port_file = Path(self.profile) / "DevToolsActivePort"
        for _ in range(100):
            if port_file.exists() and port_file.read_text().strip():
                break
            await asyncio.sleep(0.1)
        port = port_file.read_text().split()[0]
        async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
            targets = await response.json()
        page = next(t for t in targets if t["type"] == "page")
        self.ws = await session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=0)
        await self.call("Emulation.setDeviceMetricsOverride", width=800, height=900,
                        deviceScaleFactor=1, mobile=False)  # fmt: skip

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        mine = self.next_id
        await self.ws.send_json({"id": mine, "method": method, "params": params})
        while True:
            message = json.loads((await self.ws.receive(timeout=30)).data)
            if message.get("id") == mine:
                return dict(message.get("result", {}))

    async def evaluate(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    async def text(self) -> str:
        return str(await self.evaluate("document.getElementById('root').innerText"))

    async def wait_for(self, needle: str, seconds: float) -> str:
        text = ""
        for _ in range(int(seconds * 10)):
            text = await self.text()
            if needle in text:
                break
            await asyncio.sleep(0.1)
        return text

    async def screenshot(self, path: Path) -> None:
        shot = await self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        self.process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)


SEND = """(() => {
  const box = document.querySelector('.webchat__send-box-text-box__input');
  if (!box) { return 'no send box'; }
  const proto = box.tagName === 'TEXTAREA'
    ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
  Object.getOwnPropertyDescriptor(proto, 'value').set.call(box, %s);
  box.dispatchEvent(new Event('input', { bubbles: true }));
  const button = document.querySelector('button.webchat__send-button');
  if (!button) { return 'no send button'; }
  button.click();
  return 'sent';
})()"""

PRESS = """(() => {
  const button = [...document.querySelectorAll('.ac-pushButton')].find(b => b.title === %s);
  if (!button) { return 'no button'; }
  button.click();
  return 'pressed';
})()"""
BUTTONS = "[...document.querySelectorAll('.ac-pushButton')].filter(b => b.title === %s).length"
WELCOME = "Try one of these:"
HELPFUL = "👍 Helpful"

INTRO = (
    "Ask about your personal social media use under the SPCB Social Media policy. "
    "It is not HR or legal advice. Official Parliament accounts: the DCCT."
)


async def run(out: Path) -> int:
    fakes = Fakes(Adviser.from_directory(ROOT / "knowledge"))
    page_port, directline_port = free_port(), free_port()
    certificate = tempfile.mkdtemp(prefix="smoke-cert-")
    subprocess.run(  # noqa: S603
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",  # noqa: S607
         "-subj", "/CN=directline.botframework.com",
         "-keyout", f"{certificate}/key.pem", "-out", f"{certificate}/cert.pem"],
        check=True, capture_output=True,
    )  # fmt: skip
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(f"{certificate}/cert.pem", f"{certificate}/key.pem")
    runners = [web.AppRunner(page_app(fakes)), web.AppRunner(directline_app(fakes))]
    for runner in runners:
        await runner.setup()
    await web.TCPSite(runners[0], "127.0.0.1", page_port).start()
    await web.TCPSite(runners[1], "127.0.0.1", directline_port, ssl_context=tls).start()
    base = f"http://127.0.0.1:{page_port}/"

    browser = Browser(directline_port)
    results: list[tuple[str, bool, str]] = []

    async def scenario(
        name: str, url: str, check: Callable[[], Awaitable[str]], tolerated: str = "-"
    ) -> None:
        await browser.call("Page.navigate", url=url)
        try:
            problem = await check()
        except Exception as error:  # reported as a failed scenario
            problem = f"{type(error).__name__}: {error}"
        errors = [
            e for e in await browser.evaluate("window.smokeErrors || []") if tolerated not in e
        ]
        if not problem and errors:
            problem = f"page errors: {errors}"
        await browser.screenshot(out / f"{name}.png")
        results.append((name, not problem, problem))

    async def answers_with_a_card() -> str:
        text = await browser.wait_for("Type your message", 10)
        if "Is this OK to post?" not in text or INTRO not in text:
            return f"header missing: {text[:300]!r}"
        text = await browser.wait_for(WELCOME, 10)
        if text.count(WELCOME) != 1:
            return f"no welcome on first open (or more than one): {text[-400:]!r}"
        sent = await browser.evaluate(SEND % json.dumps("can i post a selfie at my desk?"))
        if sent != "sent":
            return str(sent)
        text = await browser.wait_for("Policy clauses", 10)
        if "Policy clauses" not in text or "can i post a selfie at my desk?" not in text:
            return f"no answer card: {text[-400:]!r}"
        if await browser.evaluate(PRESS % json.dumps(HELPFUL)) != "pressed":
            return "no Helpful button on the answer card"
        text = await browser.wait_for("Thanks for your feedback.", 10)
        if "Thanks for your feedback." not in text:
            return f"no thanks after the press: {text[-400:]!r}"
        if text.count("Policy clauses") != 1 or await browser.evaluate(
            BUTTONS % json.dumps(HELPFUL)
        ):
            return "the pressed card was not replaced in place: its Helpful button is still live"
        if text.count(WELCOME) != 1:
            return "the welcome came again"
        return ""

    def shows(message: str, seconds: float) -> Callable[[], Awaitable[str]]:
        async def check() -> str:
            text = await browser.wait_for(message, seconds)
            return "" if message in text else f"expected {message!r}, page says {text[-300:]!r}"

        return check

    try:
        async with ClientSession() as session:
            await browser.open(session)
            await scenario("answer", base, answers_with_a_card)
            await scenario("not-configured", base + "?configured=no",
                           shows("The adviser is not set up on this page yet.", 5))  # fmt: skip
            await scenario("sign-in-failed", base + "?signin=fail",
                           shows("We could not sign you in to the adviser.", 5))  # fmt: skip
            fakes.token_status = 503
            await scenario("backend-down", base,
                           shows("The adviser is not available at the moment.", 5))  # fmt: skip
            fakes.token_status = 200
            fakes.directline_fails = True
            fakes.calls.clear()
            # DirectLineJS reports the failed start as an uncaught error too (Web Chat
            # subscribes to it without an error handler): expected here, console only.
            await scenario("directline-down", base,
                           shows("The adviser is not available at the moment.", 25),
                           tolerated="ajax error 502")  # fmt: skip
            refreshes = fakes.calls.count("/api/directline/token/refresh")
            if refreshes != 3:
                results.append(("reconnects-3-times", False, f"{refreshes} refreshes"))
            else:
                results.append(("reconnects-3-times", True, ""))
    finally:
        browser.close()
        for runner in runners:
            await runner.cleanup()
        shutil.rmtree(certificate, ignore_errors=True)

    for name, ok, problem in results:
        print(f"{'PASS' if ok else 'FAIL'} {name}" + (f": {problem}" if problem else ""))
    passed = sum(ok for _, ok, _ in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    print(f"screenshots in {out}")
    return 0 if passed == len(results) else 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=SPFX / "temp" / "smoke")
    args = parser.parse_args()
    if not list((SPFX / "dist").glob("social-media-adviser-web-part_*.js")):
        raise SystemExit("no build in deploy/sharepoint/dist: run deploy/sharepoint/build.sh")
    args.out.mkdir(parents=True, exist_ok=True)
    raise SystemExit(asyncio.run(asyncio.wait_for(run(args.out), timeout=300)))


if __name__ == "__main__":
    main()
