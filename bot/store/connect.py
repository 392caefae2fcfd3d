"""Which database: `BOT_DATABASE_URL` (postgresql://… or sqlite:///…), else the SQLite
file at `BOT_DATABASE_PATH`. The database is built here, and connects in `open()`."""

from __future__ import annotations

from pathlib import Path

from bot.clock import Clock
from bot.settings import DatabaseAuth, Settings
from bot.store.database import Database
from bot.store.passwords import ENTRA_SCOPE, EntraPassword, PasswordSource, TokenWithLifetime
from bot.store.postgres import PostgresDatabase
from bot.store.sqlite import SqliteDatabase


class DatabaseUrlError(ValueError):
    """Not a database URL this bot can use."""


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL (sqlite:///relative or sqlite:////absolute)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url.removeprefix("sqlite:///")
    if not path:
        raise DatabaseUrlError(f"{url!r}: no file after sqlite:///")
    return Path(path)


def database_from_url(url: str, password: PasswordSource | None = None) -> Database:
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresDatabase(url, password)
    path = sqlite_path(url)
    if path is None:
        raise DatabaseUrlError(f"{url!r}: expected postgresql://… or sqlite:///…")
    return SqliteDatabase(path)


def database_from_settings(
    settings: Settings, clock: Clock, tokens: TokenWithLifetime | None = None
) -> Database:
    """`tokens` replaces the managed identity (tests); used only with entra sign-in."""
    store = settings.store
    if not store.database_url:
        return SqliteDatabase(store.database_path)
    password: PasswordSource | None = None
    if store.database_auth is DatabaseAuth.ENTRA:
        if tokens is None:
            from bot.graph.tokens import MsalGraphTokens

            identity = MsalGraphTokens(
                client_id=settings.bot.app_id,
                tenant_id=settings.bot.app_tenant_id,
                authority_host=settings.graph.authority_host,
                managed_identity=True,
                scope=ENTRA_SCOPE,
            )
            tokens = identity.token_with_lifetime
        password = EntraPassword(tokens, clock)
    return database_from_url(store.database_url, password)
