"""Typed settings, read once from the environment at start, in groups.

Each field names its environment variable and says what it is for; `python -m bot
settings` prints them all, and the runbook documents every one (a test checks). A bad,
missing or placeholder value stops start-up with a message that names the variable.
Secrets never get a default. Lists are comma-separated in the environment and tuples
here, parsed once; nothing downstream splits strings.

The groups follow who reads them: `bot` (identity, server, limits), `store`, `graph`,
`escalation` and `webchat`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, Field, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from bot.core.types import MAX_CHARS


class SettingsError(Exception):
    """One or more settings are missing or bad; the message names each variable."""


# Microsoft's documented address for proactive messages in the public cloud, for when no
# Teams serviceUrl is at hand (an asker on web chat); the US government clouds differ.
TEAMS_PUBLIC_CLOUD = "https://smba.trafficmanager.net/teams/"


class BotSdk(StrEnum):
    """Named after the channel folders, bot/channels/botframework and bot/channels/agents."""

    BOT_FRAMEWORK = "botframework"  # Bot Framework SDK for Python 4.17, archived end of 2025
    AGENTS = "agents"  # Microsoft 365 Agents SDK, its successor


class DatabaseAuth(StrEnum):
    PASSWORD = "password"  # noqa: S105 - the name of a method: in the URL, or PGPASSWORD
    ENTRA = "entra"  # the managed identity's access token (Azure Database for PostgreSQL)


class AppType(StrEnum):
    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


# Shape checks: each returns a problem ("expected …") or None. They run on every
# non-empty value, so a value copied from the wrong field fails at start rather than
# on the first escalation that needs it.
Shape = Callable[[str], str | None]

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
_DOMAIN = re.compile(r"([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?\.)+[a-zA-Z]{2,63}")
_TEAMS_THREAD = re.compile(r"19:[A-Za-z0-9_.\-=]+@thread\.(tacv2|skype)")
_MAIL = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@" + _DOMAIN.pattern)
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}
# What an administrator leaves behind from main.parameters.json or a template:
# "<19:...@thread.tacv2 or empty>", "https://<tenant>.sharepoint.com", "changeme".
_PLACEHOLDER = re.compile(r"<[^<>]*>|\.\.\.|…|^(changeme|change-me|todo|tbd|xxx+)$", re.I)
# A secret may hold dots, so only a whole-value placeholder counts there.
_SECRET_PLACEHOLDER = re.compile(r"<[^<>]*>|changeme|change-me|todo|tbd|x{3,}", re.I)


def guid(value: str) -> str | None:
    return None if _GUID.fullmatch(value) else "expected a GUID (8-4-4-4-12 hex digits)"


def tenant(value: str) -> str | None:
    if _GUID.fullmatch(value) or _DOMAIN.fullmatch(value):
        return None
    return "expected the tenant's GUID or its domain (contoso.onmicrosoft.com)"


def teams_thread(value: str) -> str | None:
    if _TEAMS_THREAD.fullmatch(value):
        return None
    return "expected a Teams id like 19:…@thread.tacv2 (Teams: Get link to team/channel)"


def mail(value: str) -> str | None:
    return None if _MAIL.fullmatch(value) else "expected an e-mail address"


def url(value: str) -> str | None:
    """https, or http to this machine only (local stand-ins)."""
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname in _LOOPBACK:
        return None
    return "expected an https:// URL (http:// only for localhost)"


def origin(value: str) -> str | None:
    problem = url(value)
    if problem:
        return problem
    if urlsplit(value).path not in ("", "/") or "?" in value or "#" in value:
        return "expected an origin (scheme and host, no path), e.g. https://contoso.sharepoint.com"
    return None


def audience(value: str) -> str | None:
    if _GUID.fullmatch(value) or value.startswith("api://"):
        return None
    return "expected the API app's client id (GUID) or its app id URI (api://…)"


def setting(
    env: str,
    help: str,
    default: Any = MISSING,
    *,
    secret: bool = False,
    shape: Shape | None = None,
) -> Any:
    meta = {"env": env, "help": help, "secret": secret, "shape": shape}
    return field(default=default, metadata=meta) if default is not MISSING else field(metadata=meta)


@dataclass(frozen=True)
class BotSettings:
    # Bot Framework identity. No app id = local mode (Emulator, tests, web chat stand-in).
    app_id: str = setting(
        "MicrosoftAppId", "Entra app (client) id of the bot; empty = local mode", "", shape=guid
    )
    app_password: str = setting(
        "MicrosoftAppPassword", "client secret of the bot's app registration", "", secret=True
    )
    app_type: AppType = setting(
        "MicrosoftAppType", "SingleTenant, MultiTenant or UserAssignedMSI", AppType.SINGLE_TENANT
    )
    app_tenant_id: str = setting(
        "MicrosoftAppTenantId", "Entra tenant id (SingleTenant/MSI)", "", shape=tenant
    )
    channel_openid_metadata_url: str = setting(
        "BOT_CHANNEL_OPENID_METADATA_URL",
        "override of the Bot Framework OpenID metadata URL (sovereign clouds, tests)",
        "",
        shape=url,
    )
    channel_token_issuer: str = setting(
        "BOT_CHANNEL_TOKEN_ISSUER",
        "override of the expected issuer of Bot Framework tokens (with the URL above)",
        "",
        shape=url,
    )
    sdk: BotSdk = setting(
        "BOT_SDK",
        "Bot SDK behind /api/messages: botframework (Bot Framework SDK) or agents "
        "(Microsoft 365 Agents SDK)",
        BotSdk.BOT_FRAMEWORK,
    )

    # Server
    host: str = setting("BOT_HOST", "address to listen on", "127.0.0.1")
    port: int = setting("PORT", "port to listen on (Bot Framework tooling expects 3978)", 3978)
    knowledge_dir: Path | None = setting(
        "BOT_KNOWLEDGE_DIR",
        "folder with clauses.md, faq/, examples/, signals.toml, judge/ and policy/",
        None,
    )
    log_level: str = setting("BOT_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", "INFO")
    log_format: str = setting("BOT_LOG_FORMAT", "json (one object a line) or text", "json")
    max_message_chars: int = setting(
        "BOT_MAX_MESSAGE_CHARS", "longer messages are refused with a clear reply", MAX_CHARS
    )
    typing_delay_ms: int = setting(
        "BOT_TYPING_DELAY_MS", "show a typing indicator when an answer takes longer than this", 200
    )


@dataclass(frozen=True)
class StoreSettings:
    database_path: Path = setting(
        "BOT_DATABASE_PATH",
        "SQLite file for tickets, feedback and the outbox",
        Path("data/adviser.sqlite3"),
    )
    database_url: str = setting(
        "BOT_DATABASE_URL",
        "postgresql://user@host:5432/db?sslmode=require selects PostgreSQL (several replicas); "
        "sqlite:///path a SQLite file; empty = BOT_DATABASE_PATH",
        "",
    )
    database_auth: DatabaseAuth = setting(
        "BOT_DATABASE_AUTH",
        "PostgreSQL sign-in: password (in the URL or PGPASSWORD) or entra (the managed "
        "identity's token, for Azure Database for PostgreSQL)",
        DatabaseAuth.PASSWORD,
    )
    outbox_lease_seconds: float = setting(
        "BOT_OUTBOX_LEASE_SECONDS",
        "how long a replica holds an outbox row it is sending (renewed while it works); "
        "after a crash another replica takes the row over once this has passed",
        60.0,
    )
    outbox_poll_seconds: float = setting(
        "BOT_OUTBOX_POLL_SECONDS",
        "how often the outbox worker looks for rows queued by other replicas",
        5.0,
    )

    @property
    def uses_postgres(self) -> bool:
        return self.database_url.startswith(("postgresql://", "postgres://"))

    retention_days: int = setting(
        "BOT_RETENTION_DAYS", "days before stored question text and closed tickets are deleted", 30
    )
    insights_retention_days: int = setting(
        "INSIGHTS_RETENTION_DAYS",
        "days the anonymous answer records behind the DCCT's insights are kept (no text)",
        365,
    )


@dataclass(frozen=True)
class GraphSettings:
    # Graph (people lookup, app install, mail). Credentials default to the bot's own app
    # registration; with neither, local mode uses a stand-in directory.
    base_url: str = setting(
        "GRAPH_BASE_URL", "Microsoft Graph endpoint", "https://graph.microsoft.com/v1.0", shape=url
    )
    authority_host: str = setting(
        "GRAPH_AUTHORITY_HOST", "Entra ID sign-in host for Graph tokens",
        "https://login.microsoftonline.com", shape=url,
    )  # fmt: skip
    client_id: str = setting(
        "GRAPH_CLIENT_ID", "app id for Graph calls; empty = MicrosoftAppId", "", shape=guid
    )
    client_secret: str = setting(
        "GRAPH_CLIENT_SECRET", "secret for Graph calls; empty = MicrosoftAppPassword", "",
        secret=True,
    )  # fmt: skip
    tenant_id: str = setting(
        "GRAPH_TENANT_ID", "tenant for Graph calls; empty = MicrosoftAppTenantId", "", shape=tenant
    )
    ca_bundle: str = setting(
        "GRAPH_CA_BUNDLE", "CA file for Graph and sign-in TLS (proxies, local stand-ins)", ""
    )


@dataclass(frozen=True)
class EscalationSettings:
    teams_app_catalog_id: str = setting(
        "TEAMS_APP_CATALOG_ID",
        "the app's id in the org catalogue, to install it for a manager who lacks it",
        "",
        shape=guid,
    )
    teams_service_url: str = setting(
        "TEAMS_SERVICE_URL",
        "Bot Connector URL for proactive Teams messages when the asker is not in Teams "
        "(web chat); Microsoft's documented public-cloud one",
        TEAMS_PUBLIC_CLOUD,
        shape=url,
    )
    dcct_service_url: str = setting(
        "DCCT_SERVICE_URL",
        "Bot Connector URL of the DCCT's team; empty = the asker's in Teams, else "
        "TEAMS_SERVICE_URL",
        "",
        shape=url,
    )
    dcct_team_id: str = setting(
        "DCCT_TEAM_ID", "Teams team id (19:…@thread…) whose members may answer for the DCCT", "",
        shape=teams_thread,
    )  # fmt: skip
    dcct_channel_id: str = setting(
        "DCCT_CHANNEL_ID", "Teams channel id where DCCT requests are posted", "",
        shape=teams_thread,
    )  # fmt: skip
    dcct_mailbox: str = setting(
        "DCCT_MAILBOX", "DCCT e-mail address, the last-resort route when Teams fails", "",
        shape=mail,
    )  # fmt: skip
    sender_mailbox: str = setting(
        "ESCALATION_SENDER_MAILBOX", "mailbox the fallback e-mail is sent from", "", shape=mail
    )
    reminder_hours: float = setting(
        "ESCALATION_REMINDER_HOURS", "working hours before an unanswered request is reminded", 8.0
    )
    deadline_hours: float = setting(
        "ESCALATION_DEADLINE_HOURS",
        "working hours before a line manager's request moves to the DCCT",
        16.0,
    )
    activity_feed: bool = setting(
        "ESCALATION_ACTIVITY_FEED",
        "also alert the expert in their Teams activity feed (Graph, TeamsActivity.Send)",
        True,
    )
    mailed_close_days: int = setting(
        "ESCALATION_MAILED_CLOSE_DAYS",
        "days after which a request e-mailed to the DCCT closes here as sent by mail "
        "(the asker is told; retention then deletes it)",
        5,
    )
    rulings_refresh_seconds: float = setting(
        "RULINGS_REFRESH_SECONDS",
        "how often each replica takes in newly approved DCCT rulings (1-60 seconds)",
        30.0,
    )
    card_signing_key: str = setting(
        "CARD_SIGNING_KEY",
        "secret (32+ characters) that signs escalation card buttons and web chat user ids; "
        "random in local mode",
        "",
        secret=True,
    )


@dataclass(frozen=True)
class WebChatSettings:
    # Web chat (SharePoint web part): Direct Line tokens for signed-in staff.
    directline_secret: str = setting(
        "DIRECTLINE_SECRET", "Direct Line channel secret; empty = no token endpoint", "",
        secret=True,
    )  # fmt: skip
    directline_endpoint: str = setting(
        "DIRECTLINE_ENDPOINT", "Direct Line 3.0 base URL",
        "https://directline.botframework.com/v3/directline", shape=url,
    )  # fmt: skip
    api_audiences: tuple[str, ...] = setting(
        "WEBCHAT_API_AUDIENCE",
        "accepted audiences of the web part's tokens, comma-separated: the bot API's client "
        "id (v2 tokens) and/or app id URI (v1)",
        (),
        shape=audience,
    )
    token_issuers: tuple[str, ...] = setting(
        "WEBCHAT_TOKEN_ISSUER",
        "accepted issuers, comma-separated: https://login.microsoftonline.com/<tenant>/v2.0 "
        "(v2 tokens) and/or https://sts.windows.net/<tenant>/ (v1)",
        (),
        shape=url,
    )
    jwks_url: str = setting(
        "WEBCHAT_JWKS_URL", "Entra ID signing keys for the web part's tokens",
        "https://login.microsoftonline.com/common/discovery/v2.0/keys", shape=url,
    )  # fmt: skip
    allowed_origins: tuple[str, ...] = setting(
        "WEBCHAT_ALLOWED_ORIGINS",
        "comma-separated origins allowed to call the token endpoint, e.g. "
        "https://parliament.sharepoint.com",
        (),
        shape=origin,
    )
    tokens_per_minute: int = setting(
        "WEBCHAT_TOKENS_PER_MINUTE", "Direct Line tokens one user may get per minute", 10
    )


# The groups, in the order `python -m bot settings` and the runbook list them.
GROUPS: dict[str, type] = {
    "bot": BotSettings,
    "store": StoreSettings,
    "graph": GraphSettings,
    "escalation": EscalationSettings,
    "webchat": WebChatSettings,
}


@dataclass(frozen=True)
class Settings:
    bot: BotSettings = field(default_factory=BotSettings)
    store: StoreSettings = field(default_factory=StoreSettings)
    graph: GraphSettings = field(default_factory=GraphSettings)
    escalation: EscalationSettings = field(default_factory=EscalationSettings)
    webchat: WebChatSettings = field(default_factory=WebChatSettings)

    @property
    def local_mode(self) -> bool:
        return not self.bot.app_id

    @property
    def graph_credentials(self) -> tuple[str, str, str]:
        """(client id, secret, tenant) for Graph; the bot's own unless overridden."""
        return (
            self.graph.client_id or self.bot.app_id,
            self.graph.client_secret or self.bot.app_password,
            self.graph.tenant_id or self.bot.app_tenant_id,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        groups: dict[str, Any] = {}
        problems: list[str] = []
        for group, kind in GROUPS.items():
            hints = get_type_hints(kind)
            values: dict[str, Any] = {}
            for f in fields(kind):
                name = f.metadata["env"]
                raw = env.get(name)
                if raw is None or raw.strip() == "":
                    continue
                try:
                    values[f.name] = _parse(hints[f.name], raw.strip(), f)
                except ValueError as exc:
                    problems.append(f"{name}: {exc}")
            groups[group] = kind(**values)
        if problems:
            raise SettingsError("bad settings:\n  " + "\n  ".join(problems))
        settings = cls(**groups)
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules. Raises SettingsError naming every variable at fault."""
        bot = self.bot
        problems = []
        if not 0 < bot.port < 65536:
            problems.append("PORT: must be between 1 and 65535")
        if bot.max_message_chars < 100:
            problems.append("BOT_MAX_MESSAGE_CHARS: must be at least 100")
        if self.store.retention_days < 1:
            problems.append("BOT_RETENTION_DAYS: must be at least 1")
        if self.store.insights_retention_days < 1:
            problems.append("INSIGHTS_RETENTION_DAYS: must be at least 1")
        if not 0 <= bot.typing_delay_ms <= 60_000:
            problems.append("BOT_TYPING_DELAY_MS: must be between 0 and 60000")
        if bool(bot.channel_openid_metadata_url) != bool(bot.channel_token_issuer):
            problems.append(
                "BOT_CHANNEL_OPENID_METADATA_URL and BOT_CHANNEL_TOKEN_ISSUER: set both or neither"
            )
        if bot.log_format not in ("json", "text"):
            problems.append("BOT_LOG_FORMAT: must be 'json' or 'text'")
        if bot.log_level.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            problems.append("BOT_LOG_LEVEL: must be DEBUG, INFO, WARNING or ERROR")
        if bot.app_id:
            if bot.app_type is not AppType.USER_ASSIGNED_MSI and not bot.app_password:
                problems.append(
                    "MicrosoftAppPassword: required when MicrosoftAppId is set "
                    f"and MicrosoftAppType is {bot.app_type.value}"
                )
            if bot.app_type is not AppType.MULTI_TENANT and not bot.app_tenant_id:
                problems.append(
                    f"MicrosoftAppTenantId: required when MicrosoftAppType is {bot.app_type.value}"
                )
        problems += self._store_problems()
        problems += self._escalation_problems() + self._webchat_problems()
        if problems:
            raise SettingsError("bad settings:\n  " + "\n  ".join(problems))

    def _store_problems(self) -> list[str]:
        store = self.store
        problems = []
        if store.database_url and not (
            store.uses_postgres or store.database_url.startswith("sqlite:///")
        ):
            problems.append(
                "BOT_DATABASE_URL: must start with postgresql:// or sqlite:/// (e.g. "
                "sqlite:///data/adviser.sqlite3)"
            )
        if store.database_auth is DatabaseAuth.ENTRA:
            if not store.uses_postgres:
                problems.append("BOT_DATABASE_AUTH: entra needs a postgresql:// BOT_DATABASE_URL")
            if self.bot.app_type is not AppType.USER_ASSIGNED_MSI or not self.bot.app_id:
                problems.append(
                    "BOT_DATABASE_AUTH: entra signs in as the managed identity: set "
                    "MicrosoftAppType=UserAssignedMSI and MicrosoftAppId"
                )
        if store.outbox_lease_seconds < 1:
            problems.append("BOT_OUTBOX_LEASE_SECONDS: must be at least 1")
        if not 0 < store.outbox_poll_seconds <= 300:
            problems.append("BOT_OUTBOX_POLL_SECONDS: must be above 0 and at most 300")
        if self.escalation.mailed_close_days < 1:
            problems.append("ESCALATION_MAILED_CLOSE_DAYS: must be at least 1")
        return problems

    def _escalation_problems(self) -> list[str]:
        escalation = self.escalation
        problems = []
        if escalation.card_signing_key and len(escalation.card_signing_key) < 32:
            problems.append("CARD_SIGNING_KEY: must be at least 32 characters")
        if self.bot.app_id and not escalation.card_signing_key:
            problems.append("CARD_SIGNING_KEY: required when MicrosoftAppId is set")
        if bool(escalation.dcct_team_id) != bool(escalation.dcct_channel_id):
            problems.append("DCCT_TEAM_ID and DCCT_CHANNEL_ID: set both or neither")
        if escalation.dcct_mailbox and not escalation.sender_mailbox:
            problems.append("ESCALATION_SENDER_MAILBOX: required when DCCT_MAILBOX is set")
        if not 0 < escalation.reminder_hours <= escalation.deadline_hours:
            problems.append(
                "ESCALATION_REMINDER_HOURS: must be above 0 and at most ESCALATION_DEADLINE_HOURS"
            )
        if not 1 <= escalation.rulings_refresh_seconds <= 60:
            problems.append("RULINGS_REFRESH_SECONDS: must be between 1 and 60")
        client, secret, tenant_id = self.graph_credentials
        if self.graph.client_id and not tenant_id:
            problems.append("GRAPH_TENANT_ID: required when GRAPH_CLIENT_ID is set")
        if client and not secret and self.bot.app_type is not AppType.USER_ASSIGNED_MSI:
            problems.append("GRAPH_CLIENT_SECRET: required for Graph (or MicrosoftAppPassword)")
        return problems

    def _webchat_problems(self) -> list[str]:
        webchat = self.webchat
        problems = []
        if webchat.directline_secret and not (webchat.api_audiences and webchat.token_issuers):
            problems.append(
                "WEBCHAT_API_AUDIENCE and WEBCHAT_TOKEN_ISSUER: required with DIRECTLINE_SECRET"
            )
        if webchat.tokens_per_minute < 1:
            problems.append("WEBCHAT_TOKENS_PER_MINUTE: must be at least 1")
        return problems

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, help) for every setting, for docs and `bot settings`."""
        return [row for rows in cls.describe_groups().values() for row in rows]

    @classmethod
    def describe_groups(cls) -> dict[str, list[tuple[str, str, str]]]:
        """The same rows, under the name of their group."""
        groups: dict[str, list[tuple[str, str, str]]] = {group: [] for group in GROUPS}
        for group, f in _all_fields():
            if f.metadata["secret"] or f.default is MISSING:
                default = ""
            elif isinstance(f.default, tuple):
                default = ",".join(f.default)
            elif isinstance(f.default, bool):  # as it is written in the environment
                default = str(f.default).lower()
            else:
                default = str(f.default or "")
            groups[group].append((f.metadata["env"], default, f.metadata["help"]))
        return groups


def _all_fields() -> Iterator[tuple[str, Field[Any]]]:
    for group, kind in GROUPS.items():
        for f in fields(kind):
            yield group, f


def _parse(kind: Any, raw: str, f: Field[Any]) -> Any:
    secret_placeholder = f.metadata["secret"] and _SECRET_PLACEHOLDER.fullmatch(raw)
    if secret_placeholder or (not f.metadata["secret"] and _PLACEHOLDER.search(raw)):
        raise ValueError(
            f"{raw!r} looks like a placeholder from a template; set the real value or leave "
            "it empty"
        )
    shape: Shape | None = f.metadata["shape"]
    if kind == tuple[str, ...]:
        items = tuple(item.strip().rstrip("/") if shape is origin else item.strip()
                      for item in raw.split(",") if item.strip())  # fmt: skip
        for item in items:
            if shape and (problem := shape(item)):
                raise ValueError(f"{problem}, got {item!r}")
        return items
    if shape and (problem := shape(raw)):
        raise ValueError(f"{problem}, got {raw!r}")
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"expected a whole number, got {raw!r}") from None
    if kind is float:
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"expected a number, got {raw!r}") from None
    if kind is bool:
        if raw.lower() in ("1", "true", "yes", "on"):
            return True
        if raw.lower() in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"expected true or false, got {raw!r}")
    if kind in (Path, Path | None):
        return Path(raw)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        try:
            return kind(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise ValueError(f"expected one of {allowed}, got {raw!r}") from None
    return raw
