"""What differs by database: choosing one, signing in to PostgreSQL with an Entra ID
token, riding out a PostgreSQL restart, and upgrading a SQLite file from before
migrations existed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FakeClock
from bot.escalation.store import TicketStore
from bot.escalation.tickets import Status
from bot.fakes.postgres import PostgresServer
from bot.fakes.tokens import FakeAccessTokens
from bot.settings import DatabaseAuth, Settings, SettingsError
from bot.store.connect import DatabaseUrlError, database_from_settings, database_from_url
from bot.store.database import Tx
from bot.store.feedback import FeedbackStore
from bot.store.migrations import LATEST
from bot.store.passwords import EntraPassword
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SqliteDatabase
from tests.store.helpers import confirmed

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_the_url_chooses_the_database(tmp_path: Path) -> None:
    settings = Settings.from_env({"BOT_DATABASE_PATH": str(tmp_path / "a.db")})
    default = database_from_settings(settings, FakeClock())
    assert isinstance(default, SqliteDatabase)
    assert default.path == str(tmp_path / "a.db")
    by_url = database_from_url(f"sqlite:///{tmp_path}/b.db")
    assert isinstance(by_url, SqliteDatabase)
    assert by_url.path == f"{tmp_path}/b.db"
    assert isinstance(database_from_url("postgresql://u@127.0.0.1/db"), PostgresDatabase)
    with pytest.raises(DatabaseUrlError, match="expected postgresql"):
        database_from_url("mysql://u@h/db")
    with pytest.raises(SettingsError, match="BOT_DATABASE_URL: must start with"):
        Settings.from_env({"BOT_DATABASE_URL": "mysql://u@h/db"})
    with pytest.raises(SettingsError, match="BOT_DATABASE_AUTH: entra signs in as the managed"):
        Settings.from_env({"BOT_DATABASE_URL": "postgresql://u@h/db", "BOT_DATABASE_AUTH": "entra"})
    with pytest.raises(SettingsError, match="BOT_DATABASE_AUTH: expected one of password, entra"):
        Settings.from_env({"BOT_DATABASE_AUTH": "kerberos"})


async def test_entra_sign_in_uses_the_token_as_password_and_refreshes_it(
    postgres_server: PostgresServer,
) -> None:
    tokens = FakeAccessTokens(lifetime=3600)
    user, database = "policy-adviser-id", "entra_test"  # named after the managed identity
    postgres_server.sql(f"CREATE ROLE \"{user}\" LOGIN PASSWORD 'token-1'")
    postgres_server.sql(f'CREATE DATABASE {database} OWNER "{user}"')
    clock = FakeClock(NOW)
    settings = Settings.from_env(
        {
            "BOT_DATABASE_URL": postgres_server.url(database, user=user, password=None),
            "BOT_DATABASE_AUTH": "entra",
            "MicrosoftAppId": "4d7e1c2a-0000-4000-8000-00000000a11d",
            "MicrosoftAppType": "UserAssignedMSI",
            "MicrosoftAppTenantId": "9f2a1c55-0000-4000-8000-5c077a1d0001",
            "CARD_SIGNING_KEY": "k" * 40,
        }
    )
    assert settings.store.database_auth is DatabaseAuth.ENTRA
    db = database_from_settings(settings, clock, tokens.token_with_lifetime)
    assert isinstance(db, PostgresDatabase)
    assert isinstance(db.password, EntraPassword)
    await db.open()
    store = FeedbackStore(db)
    try:
        assert await store.all() == []
        assert tokens.calls == 1

        def drop_connections() -> None:
            postgres_server.sql(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{user}'"
            )

        # A new connection within the token's life reuses it.
        drop_connections()
        assert await store.all() == []
        assert tokens.calls == 1
        # Five minutes before it expires, a new connection gets a fresh token, and the
        # server (which now expects the new one) lets it in.
        postgres_server.sql(f"ALTER ROLE \"{user}\" PASSWORD 'token-2'")
        clock.advance(timedelta(minutes=56))
        drop_connections()
        assert await store.all() == []
        assert tokens.calls == 2
        assert tokens.current == "token-2"
    finally:
        await db.close()


async def test_transactions_ride_out_a_postgres_restart(
    postgres_server: PostgresServer, postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    db = PostgresDatabase(postgres_url, retry_seconds=30)
    await db.open()
    store = TicketStore(db)
    try:
        made = [await store.create(confirmed(NOW, 0))]
        restart = asyncio.get_running_loop().run_in_executor(None, postgres_server.restart)
        while not restart.done():  # writing all the while the server goes down and up
            made.append(await store.create(confirmed(NOW, len(made))))
        await restart
        made.append(await store.create(confirmed(NOW, len(made))))
        assert len({t.id for t in made}) == len(made)
        assert (await store.outbox_counts()) == {"pending": len(made)}
        assert any(r.message == "store.retry" for r in caplog.records), "it did reconnect"
    finally:
        await db.close()


OLD_SCHEMA = """
CREATE TABLE tickets (id INTEGER PRIMARY KEY AUTOINCREMENT, data TEXT NOT NULL,
    status TEXT NOT NULL, asker_user_id TEXT NOT NULL, closed_at TEXT);
CREATE INDEX tickets_asker ON tickets(asker_user_id);
CREATE INDEX tickets_status ON tickets(status);
CREATE TABLE outbox (id INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id INTEGER NOT NULL REFERENCES tickets(id), kind TEXT NOT NULL,
    key TEXT NOT NULL UNIQUE, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0, due_at TEXT NOT NULL, last_error TEXT, done_at TEXT);
CREATE INDEX outbox_due ON outbox(state, due_at);
CREATE TABLE feedback (card_id TEXT PRIMARY KEY, entry TEXT, verdict TEXT NOT NULL,
    policy_version TEXT NOT NULL, helpful INTEGER NOT NULL, channel TEXT NOT NULL,
    created_at TEXT NOT NULL, comment TEXT, question TEXT);
CREATE INDEX feedback_created ON feedback(created_at);
"""


def old_release_file(path: Path) -> None:
    """A database as the SQLite-only releases left it, caught mid-send by a crash."""
    data = {
        "created_at": "2026-11-24T09:00:00+00:00", "status": "pending", "route": "line_manager",
        "asker_user_id": "29:user-1", "asker_aad": "aad-1", "asker_name": "Morag Stewart",
        "asker_conversation": {"serviceUrl": "http://127.0.0.1:9/",
                               "conversation": {"id": "a:c1"}},
        "tenant_id": "t", "question": "Can I post this?", "verdict": "ask", "clauses": "F1",
        "entry": None, "policy_version": "sha256:x", "expert_aad": None, "expert_name": None,
        "expert_conversation": {}, "expert_activity_id": None, "taken_by": None,
        "answer": None, "outcome": None, "answered_by": None, "answered_at": None,
        "sent_at": None, "reminded_at": None, "rerouted": None, "closed_at": None,
        "follow_ups": 0, "offer_id": "offer-1",
    }  # fmt: skip
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.execute("INSERT INTO tickets (data, status, asker_user_id) VALUES (?, ?, ?)",
                     (json.dumps(data), "pending", "29:user-1"))  # fmt: skip
        conn.execute(
            "INSERT INTO outbox (ticket_id, kind, key, payload, state, attempts, due_at) "
            "VALUES (1, 'deliver_request', 'deliver:1:0', '{}', 'sending', 1, ?)",
            ("2026-11-24T09:00:00+00:00",),
        )
        conn.execute("INSERT INTO feedback VALUES ('card-1', NULL, 'ok', 'v', 1, 'msteams', "
                     "'2026-11-24T09:00:00+00:00', 'a comment', NULL)")  # fmt: skip
    conn.close()


async def test_a_sqlite_file_from_before_migrations_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "adviser.sqlite3"
    old_release_file(path)
    db = SqliteDatabase(path)
    await db.open()
    try:

        async def versions(tx: Tx) -> list[int]:
            rows = await tx.fetch("SELECT version FROM schema_migrations ORDER BY version")
            return [int(r["version"]) for r in rows]

        assert await db.read(versions) == list(range(1, LATEST + 1))
        store = TicketStore(db)
        ticket = await store.get(1)
        assert ticket is not None
        assert (ticket.status, ticket.question) == (Status.PENDING, "Can I post this?")
        # The row the old release left in `sending` has no lease: it is due again.
        [row] = await store.claim("new-release", NOW, timedelta(seconds=30), 10)
        assert (row.key, row.attempts) == ("deliver:1:0", 2)
        # The offer id moved into its column: the same click still makes no second ticket.
        again = await store.create(confirmed(NOW, 1, offer="offer-1"))
        assert again.id == 1
        [feedback] = await FeedbackStore(db).all()
        assert feedback.comment == "a comment"
    finally:
        await db.close()
