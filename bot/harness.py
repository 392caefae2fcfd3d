"""`python -m bot poke "text"`: talk to a running bot server as Teams would, from a terminal.

Starts a local fake Bot Connector, posts a real Teams message activity to the server's
`/api/messages` with that connector as `serviceUrl`, and prints what the bot sent back,
as the terminal chat shows it (`raw`: the activities as JSON). Works against a
local-mode server (no token); for a secured one use the Emulator.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, TextIO

import aiohttp

from bot.channels.text.render import Style, plain_text, render_card
from bot.conversation.cards import CONTENT_TYPE
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.connector import FakeConnector


async def poke(url: str, text: str, out: TextIO, wait: float = 5.0, *, raw: bool = False) -> int:
    async with FakeConnector() as connector, aiohttp.ClientSession() as http:
        activity = activities.message(text, TeamsUser(), connector.service_url)
        try:
            async with http.post(f"{url.rstrip('/')}/api/messages", json=activity) as response:
                if response.status >= 300:
                    out.write(
                        f"error: the bot answered {response.status}: {await response.text()}\n"
                    )
                    return 1
        except aiohttp.ClientError as exc:
            out.write(f"error: could not reach {url}: {exc}\n")
            return 1
        try:
            sent = await connector.wait_for(1, timeout=wait)
        except TimeoutError:
            out.write("error: the bot accepted the message but sent no reply\n")
            return 1
        await asyncio.sleep(0.2)  # a reply may follow the typing indicator
        replies = [call.activity for call in connector.sent or sent]
        if raw:
            for activity in replies:
                out.write(json.dumps(_summary(activity), ensure_ascii=False, indent=2) + "\n")
        else:
            out.write(as_text(replies, Style.for_stream(out)) + "\n")
    return 0


def as_text(replies: list[dict[str, Any]], style: Style) -> str:
    """The bot's messages as the terminal chat shows them (the typing indicator left out)."""
    blocks = []
    for activity in replies:
        if activity.get("type", "message") != "message":
            continue
        if isinstance(activity.get("text"), str) and activity["text"].strip():
            blocks.append(plain_text(activity["text"], style))
        for attachment in activity.get("attachments") or []:
            if attachment.get("contentType") == CONTENT_TYPE:
                blocks.append(render_card(attachment.get("content") or {}, style=style))
            else:
                blocks.append(f"[attachment: {attachment.get('contentType', 'unknown')}]")
    return "\n\n".join(blocks) or "(the bot sent only a typing indicator)"


def _summary(activity: dict[str, Any]) -> dict[str, Any]:
    keep = ("type", "text", "attachments")
    return {k: activity[k] for k in keep if activity.get(k)}
