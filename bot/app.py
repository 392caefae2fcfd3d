"""The aiohttp application: `create_app(settings)` wires the core to the edges."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import partial

from aiohttp import web

from bot.channels.activity_protocol.outbound import ConnectorHolder
from bot.channels.activity_protocol.setup import sdk_channel, setup_bot
from bot.channels.activity_protocol.tokens import BotTokens, bot_token_source
from bot.channels.directline.identity import WebChatIds
from bot.channels.directline.page import setup_local_chat
from bot.channels.inbound import ServiceUrls
from bot.clock import Clock, SystemClock
from bot.conversation.escalation_port import Escalations
from bot.conversation.signing import CardSigner
from bot.core import Adviser
from bot.escalation.setup import EscalationParts, setup_escalation
from bot.graph.client import Directory
from bot.http import SharedSession
from bot.insights.setup import setup_insights
from bot.rulings.setup import RulingsParts, setup_rulings
from bot.settings import Settings
from bot.store.answers import AnswerStore
from bot.store.connect import database_from_settings
from bot.store.database import Database
from bot.store.feedback import FeedbackStore
from bot.store.passwords import TokenWithLifetime
from bot.store.retention import Purge, purge_periodically
from bot.store.welcomes import WelcomeStore
from bot.webchat.setup import setup_webchat_tokens

log = logging.getLogger("bot.app")
ADVISER_KEY = web.AppKey("adviser", Adviser)
SETTINGS_KEY = web.AppKey("settings", Settings)
DATABASE_KEY: web.AppKey[Database] = web.AppKey("database")
FEEDBACK_KEY = web.AppKey("feedback", FeedbackStore)
ANSWERS_KEY = web.AppKey("answers", AnswerStore)
PURGES_KEY = web.AppKey("purges", dict[str, Purge])
ESCALATION_KEY = web.AppKey("escalation", EscalationParts)
HTTP_KEY = web.AppKey("http", SharedSession)
SIGNER_KEY = web.AppKey("signer", CardSigner)
RULINGS_KEY = web.AppKey("rulings", RulingsParts)
RETENTION_EVERY_SECONDS = 3600.0


async def healthz(request: web.Request) -> web.Response:
    adviser = request.app[ADVISER_KEY]
    body: dict[str, object] = {
        "status": "ok",
        "knowledge_entries": len(adviser.knowledge.entries),
        "policy_version": adviser.knowledge.policy_version,
        "rulings": len(adviser.rulings),  # DCCT rulings in force on this replica
    }
    if ESCALATION_KEY in request.app:
        # For the operator: rows waiting to be sent, and rows that gave up (see the runbook).
        counts = await request.app[ESCALATION_KEY].store.outbox_counts()
        body["outbox"] = {"pending": counts.get("pending", 0) + counts.get("sending", 0),
                          "dead": counts.get("dead", 0)}  # fmt: skip
    return web.json_response(body)


async def create_app(
    settings: Settings,
    adviser: Adviser | None = None,
    *,
    clock: Clock | None = None,
    bot_tokens: BotTokens | None = None,
    escalations: Escalations | None = None,
    directory: Directory | None = None,
    database_tokens: TokenWithLifetime | None = None,
) -> web.Application:
    """Build the application. Knowledge loads in a thread: it reads files.

    Side effects arrive as arguments so tests pass fakes; the defaults are the real ones
    (`database_tokens` stands in for the managed identity's PostgreSQL tokens).
    """
    if adviser is None:
        adviser = await asyncio.to_thread(
            partial(
                Adviser.from_directory,
                settings.bot.knowledge_dir,
                max_chars=settings.bot.max_message_chars,
            )
        )
    # This app's own book of DCCT rulings: what it takes in never reaches another app
    # that shares the loaded knowledge (tests run many apps on one adviser).
    adviser = adviser.fork()
    clock = clock or SystemClock()
    app = web.Application(client_max_size=256 * 1024)
    app[SETTINGS_KEY] = settings
    app[ADVISER_KEY] = adviser
    database = database_from_settings(settings, clock, database_tokens)
    feedback = FeedbackStore(database)
    welcomes = WelcomeStore(database)
    answers = AnswerStore(database)
    app[DATABASE_KEY] = database
    app[FEEDBACK_KEY] = feedback
    app[ANSWERS_KEY] = answers
    purges: dict[str, Purge] = {
        "feedback": feedback.purge_text_before,
        "welcomes": welcomes.purge_before,
        "answer_events": answers.purge_before,
    }
    # The answer records hold no text, so they may outlive the question-text limit.
    keep_days = {"answer_events": settings.store.insights_retention_days}
    app[PURGES_KEY] = purges
    app.router.add_get("/healthz", healthz)
    channel = sdk_channel(settings.bot.sdk)
    tokens = bot_tokens or channel.default_tokens(settings)
    http = SharedSession()
    app[HTTP_KEY] = http
    connector = ConnectorHolder(bot_token_source(settings, tokens), http)
    # One key signs every button: the answer cards' sealed state and the tickets'.
    signer = (
        CardSigner(settings.escalation.card_signing_key.encode())
        if settings.escalation.card_signing_key
        else CardSigner.ephemeral()
    )
    app[SIGNER_KEY] = signer
    service_urls = ServiceUrls()  # where replies may go; a local stand-in adds its own
    # Web chat ids are signed with the card key (random per start in local mode).
    web_chat_ids = (
        WebChatIds(settings.escalation.card_signing_key.encode())
        if settings.escalation.card_signing_key
        else WebChatIds.ephemeral()
    )

    async def storage(app: web.Application) -> AsyncIterator[None]:
        await database.open()  # connects, and migrates the schema under a lock
        purging = asyncio.create_task(
            purge_periodically(
                app[PURGES_KEY],
                clock,
                settings.store.retention_days,
                RETENTION_EVERY_SECONDS,
                keep_days,
            )
        )
        yield
        purging.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await purging
        await database.close()

    app.cleanup_ctx.append(storage)  # first in, last out: the database outlives its users
    app.cleanup_ctx.append(http.lifetime)  # and the one HTTP session outlives its users
    if escalations is None:
        parts = setup_escalation(
            settings,
            signer=signer,
            database=database,
            connector=connector,
            http=http,
            clock=clock,
            purges=purges,
            directory=directory,
            policy_version=adviser.knowledge.policy_version,
        )
        app[ESCALATION_KEY] = parts
        escalations = parts.service
        # Rulings come from answered requests: only with escalation's tickets.
        app[RULINGS_KEY] = setup_rulings(
            settings, adviser, database=database, escalation=parts, clock=clock, purges=purges
        )
    insights = setup_insights(
        app,
        settings,
        adviser.knowledge,
        answers=answers,
        feedback=feedback,
        tickets=app[ESCALATION_KEY].store if ESCALATION_KEY in app else None,
        connector=connector,
        clock=clock,
        # The DCCT's queue of rulings to approve (the rulings desk's own store).
        proposals=app[RULINGS_KEY].store if RULINGS_KEY in app else None,
    )
    setup_bot(
        app,
        settings,
        adviser,
        channel=channel,
        feedback=feedback,
        answers=answers,
        welcomes=welcomes,
        escalations=escalations,
        clock=clock,
        tokens=tokens,
        connector=connector,
        signer=signer,
        service_urls=service_urls,
        web_chat_ids=web_chat_ids,
        rulings=app[RULINGS_KEY].desk if RULINGS_KEY in app else None,
        insights=insights,
    )
    if RULINGS_KEY in app:
        app.cleanup_ctx.append(app[RULINGS_KEY].lifecycle)
    if ESCALATION_KEY in app:
        app.cleanup_ctx.append(app[ESCALATION_KEY].lifecycle)
    if settings.webchat.directline_secret:
        setup_webchat_tokens(app, settings, http, web_chat_ids)
    setup_local_chat(app, settings, http, service_urls, connector.bearers, web_chat_ids)
    return app
