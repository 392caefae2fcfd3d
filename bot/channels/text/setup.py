"""Run the app for one person at a terminal: local mode, local stand-ins, the text channel.

The terminal gets the same app as `serve` (`create_app`: the store, escalation and its
outbox worker) on an ephemeral 127.0.0.1 port, because escalation reaches a conversation
through its Bot Connector URL; the terminal's conversation has its own (connector.py).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from aiohttp import web

from bot.app import ADVISER_KEY, ESCALATION_KEY, FEEDBACK_KEY, SIGNER_KEY, create_app
from bot.channels.text.channel import TextChannel
from bot.channels.text.connector import TerminalConnector
from bot.channels.text.render import Style
from bot.clock import Clock, SystemClock
from bot.conversation.dialogue import Dialogue
from bot.conversation.types import Person
from bot.core import Adviser
from bot.settings import BotSettings, EscalationSettings, Settings, StoreSettings

CHANNEL_ID = "terminal"
BOT = {"id": "local-adviser-bot", "name": "Policy adviser"}
LOCAL_NAME = "Local user"


def terminal_settings(settings: Settings, database: Path) -> Settings:
    """Local mode and the local stand-ins whatever the environment says (a terminal is
    one person on one machine, never Teams), keeping what shapes the conversation."""
    bot = settings.bot
    return Settings(
        bot=BotSettings(knowledge_dir=bot.knowledge_dir, max_message_chars=bot.max_message_chars),
        store=StoreSettings(database_path=database, retention_days=settings.store.retention_days),
        escalation=EscalationSettings(
            reminder_hours=settings.escalation.reminder_hours,
            deadline_hours=settings.escalation.deadline_hours,
        ),
    )


@contextlib.asynccontextmanager
async def open_text_channel(
    settings: Settings,
    adviser: Adviser,
    show: Callable[[str], None],
    style: Style | None = None,
    *,
    clock: Clock | None = None,
) -> AsyncIterator[TextChannel]:
    """The running app with the terminal's conversation on it; stopped on exit."""
    clock = clock or SystemClock()
    suffix = secrets.token_hex(6)
    # An id shaped like a signed-in one, as the local web chat gives, so the person can
    # escalate and play their own line manager or DCCT (the local stand-ins).
    user = {"id": f"terminal-{suffix}", "name": LOCAL_NAME}
    connector = TerminalConnector(f"terminal-conversation-{suffix}", user)
    app = await create_app(settings, adviser, clock=clock)
    connector.mount(app)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        port = int(runner.addresses[0][1])
        person = Person(
            user_id=user["id"],
            name=LOCAL_NAME,
            aad_object_id=f"local-{suffix}",
            tenant_id=None,
            channel_id=CHANNEL_ID,
            conversation={
                "serviceUrl": connector.service_url(f"http://127.0.0.1:{port}"),
                "channelId": CHANNEL_ID,
                "conversation": {"id": connector.conversation_id},
                "bot": BOT,
                "user": user,
            },
        )
        dialogue = Dialogue(
            app[ADVISER_KEY],
            app[FEEDBACK_KEY],
            app[ESCALATION_KEY].service,
            clock,
            signer=app[SIGNER_KEY],
            max_chars=settings.bot.max_message_chars,
            retention_days=settings.store.retention_days,
        )
        channel = TextChannel(dialogue, person, show, style)
        connector.recipient = channel
        yield channel
    finally:
        await runner.cleanup()
