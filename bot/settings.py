"""Typed settings, read once from the environment at start.

Each field names its environment variable and says what it is for; `python -m bot
settings` prints them all, and the runbook documents every one (a test checks). A bad
or missing required value stops start-up with a message that names the variable.
Secrets never get a default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from enum import StrEnum
from pathlib import Path
from typing import Any, get_type_hints


class SettingsError(Exception):
    """One or more settings are missing or bad; the message names each variable."""


class AppType(StrEnum):
    SINGLE_TENANT = "SingleTenant"
    MULTI_TENANT = "MultiTenant"
    USER_ASSIGNED_MSI = "UserAssignedMSI"


def setting(env: str, help: str, default: Any = MISSING, *, secret: bool = False) -> Any:
    meta = {"env": env, "help": help, "secret": secret}
    return field(default=default, metadata=meta) if default is not MISSING else field(metadata=meta)


@dataclass(frozen=True)
class Settings:
    # Bot Framework identity. No app id = local mode (Emulator, tests, web chat stand-in).
    app_id: str = setting(
        "MicrosoftAppId", "Entra app (client) id of the bot; empty = local mode", ""
    )
    app_password: str = setting(
        "MicrosoftAppPassword", "client secret of the bot's app registration", "", secret=True
    )
    app_type: AppType = setting(
        "MicrosoftAppType", "SingleTenant, MultiTenant or UserAssignedMSI", AppType.SINGLE_TENANT
    )
    app_tenant_id: str = setting("MicrosoftAppTenantId", "Entra tenant id (SingleTenant/MSI)", "")

    # Server
    host: str = setting("BOT_HOST", "address to listen on", "127.0.0.1")
    port: int = setting("PORT", "port to listen on (Bot Framework tooling expects 3978)", 3978)
    database_path: Path = setting(
        "BOT_DATABASE_PATH",
        "SQLite file for tickets, feedback and the outbox",
        Path("data/adviser.sqlite3"),
    )
    knowledge_dir: Path | None = setting(
        "BOT_KNOWLEDGE_DIR",
        "folder with clauses.md, faq/, examples/, signals.toml, judge/ and policy/",
        None,
    )
    log_level: str = setting("BOT_LOG_LEVEL", "DEBUG, INFO, WARNING or ERROR", "INFO")
    log_format: str = setting("BOT_LOG_FORMAT", "json (one object a line) or text", "json")
    max_message_chars: int = setting(
        "BOT_MAX_MESSAGE_CHARS", "longer messages are refused with a clear reply", 4000
    )
    retention_days: int = setting(
        "BOT_RETENTION_DAYS", "days before stored question text and closed tickets are deleted", 30
    )

    # Teams / Bot Framework edge
    typing_delay_ms: int = setting(
        "BOT_TYPING_DELAY_MS", "show a typing indicator when an answer takes longer than this", 200
    )
    channel_openid_metadata_url: str = setting(
        "BOT_CHANNEL_OPENID_METADATA_URL",
        "override of the Bot Framework OpenID metadata URL (sovereign clouds, tests)",
        "",
    )
    channel_token_issuer: str = setting(
        "BOT_CHANNEL_TOKEN_ISSUER",
        "override of the expected issuer of Bot Framework tokens (with the URL above)",
        "",
    )

    # Escalation: Graph (people lookup, app install, mail). Credentials default to the
    # bot's own app registration; with neither, local mode uses a stand-in directory.
    graph_base_url: str = setting(
        "GRAPH_BASE_URL", "Microsoft Graph endpoint", "https://graph.microsoft.com/v1.0"
    )
    graph_authority_host: str = setting(
        "GRAPH_AUTHORITY_HOST", "Entra ID sign-in host for Graph tokens",
        "https://login.microsoftonline.com",
    )  # fmt: skip
    graph_client_id: str = setting(
        "GRAPH_CLIENT_ID", "app id for Graph calls; empty = MicrosoftAppId", ""
    )
    graph_client_secret: str = setting(
        "GRAPH_CLIENT_SECRET", "secret for Graph calls; empty = MicrosoftAppPassword", "",
        secret=True,
    )  # fmt: skip
    graph_tenant_id: str = setting(
        "GRAPH_TENANT_ID", "tenant for Graph calls; empty = MicrosoftAppTenantId", ""
    )
    graph_ca_bundle: str = setting(
        "GRAPH_CA_BUNDLE", "CA file for Graph and sign-in TLS (proxies, local stand-ins)", ""
    )
    teams_app_catalog_id: str = setting(
        "TEAMS_APP_CATALOG_ID",
        "the app's id in the org catalogue, to install it for a manager who lacks it",
        "",
    )
    dcct_service_url: str = setting(
        "DCCT_SERVICE_URL", "Bot Connector URL of the DCCT's team; empty = the asker's", ""
    )
    dcct_team_id: str = setting(
        "DCCT_TEAM_ID", "Teams team id (19:…@thread…) whose members may answer for the DCCT", ""
    )
    dcct_channel_id: str = setting(
        "DCCT_CHANNEL_ID", "Teams channel id where DCCT requests are posted", ""
    )
    dcct_mailbox: str = setting(
        "DCCT_MAILBOX", "DCCT e-mail address, the last-resort route when Teams fails", ""
    )
    escalation_sender_mailbox: str = setting(
        "ESCALATION_SENDER_MAILBOX", "mailbox the fallback e-mail is sent from", ""
    )
    escalation_reminder_hours: float = setting(
        "ESCALATION_REMINDER_HOURS", "working hours before an unanswered request is reminded", 8.0
    )
    escalation_deadline_hours: float = setting(
        "ESCALATION_DEADLINE_HOURS",
        "working hours before a line manager's request moves to the DCCT",
        16.0,
    )
    card_signing_key: str = setting(
        "CARD_SIGNING_KEY",
        "secret (32+ characters) that signs escalation card buttons; random in local mode",
        "",
        secret=True,
    )

    # Web chat (SharePoint web part): Direct Line tokens for signed-in staff.
    directline_secret: str = setting(
        "DIRECTLINE_SECRET", "Direct Line channel secret; empty = no token endpoint", "",
        secret=True,
    )  # fmt: skip
    directline_endpoint: str = setting(
        "DIRECTLINE_ENDPOINT", "Direct Line 3.0 base URL",
        "https://directline.botframework.com/v3/directline",
    )  # fmt: skip
    webchat_api_audience: str = setting(
        "WEBCHAT_API_AUDIENCE",
        "accepted audiences of the web part's tokens, comma-separated: the bot API's client "
        "id (v2 tokens) and/or app id URI (v1)",
        "",
    )
    webchat_token_issuer: str = setting(
        "WEBCHAT_TOKEN_ISSUER",
        "accepted issuers, comma-separated: https://login.microsoftonline.com/<tenant>/v2.0 "
        "(v2 tokens) and/or https://sts.windows.net/<tenant>/ (v1)",
        "",
    )
    webchat_jwks_url: str = setting(
        "WEBCHAT_JWKS_URL", "Entra ID signing keys for the web part's tokens",
        "https://login.microsoftonline.com/common/discovery/v2.0/keys",
    )  # fmt: skip
    webchat_allowed_origins: str = setting(
        "WEBCHAT_ALLOWED_ORIGINS",
        "comma-separated origins allowed to call the token endpoint, e.g. "
        "https://parliament.sharepoint.com",
        "",
    )
    webchat_tokens_per_minute: int = setting(
        "WEBCHAT_TOKENS_PER_MINUTE", "Direct Line tokens one user may get per minute", 10
    )

    @property
    def local_mode(self) -> bool:
        return not self.app_id

    @property
    def graph_credentials(self) -> tuple[str, str, str]:
        """(client id, secret, tenant) for Graph; the bot's own unless overridden."""
        return (
            self.graph_client_id or self.app_id,
            self.graph_client_secret or self.app_password,
            self.graph_tenant_id or self.app_tenant_id,
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        hints = get_type_hints(cls)
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            name = f.metadata["env"]
            raw = env.get(name)
            if raw is None or raw.strip() == "":
                continue
            try:
                values[f.name] = _parse(hints[f.name], raw.strip())
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
        if problems:
            raise SettingsError("bad settings:\n  " + "\n  ".join(problems))
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Cross-field rules. Raises SettingsError naming every variable at fault."""
        problems = []
        if not 0 < self.port < 65536:
            problems.append("PORT: must be between 1 and 65535")
        if self.max_message_chars < 100:
            problems.append("BOT_MAX_MESSAGE_CHARS: must be at least 100")
        if self.retention_days < 1:
            problems.append("BOT_RETENTION_DAYS: must be at least 1")
        if not 0 <= self.typing_delay_ms <= 60_000:
            problems.append("BOT_TYPING_DELAY_MS: must be between 0 and 60000")
        if bool(self.channel_openid_metadata_url) != bool(self.channel_token_issuer):
            problems.append(
                "BOT_CHANNEL_OPENID_METADATA_URL and BOT_CHANNEL_TOKEN_ISSUER: set both or neither"
            )
        if self.log_format not in ("json", "text"):
            problems.append("BOT_LOG_FORMAT: must be 'json' or 'text'")
        if self.app_id:
            if self.app_type is not AppType.USER_ASSIGNED_MSI and not self.app_password:
                problems.append(
                    "MicrosoftAppPassword: required when MicrosoftAppId is set "
                    f"and MicrosoftAppType is {self.app_type.value}"
                )
            if self.app_type is not AppType.MULTI_TENANT and not self.app_tenant_id:
                problems.append(
                    f"MicrosoftAppTenantId: required when MicrosoftAppType is {self.app_type.value}"
                )
        problems += self._escalation_problems()
        if problems:
            raise SettingsError("bad settings:\n  " + "\n  ".join(problems))

    def _escalation_problems(self) -> list[str]:
        problems = []
        if self.card_signing_key and len(self.card_signing_key) < 32:
            problems.append("CARD_SIGNING_KEY: must be at least 32 characters")
        if self.app_id and not self.card_signing_key:
            problems.append("CARD_SIGNING_KEY: required when MicrosoftAppId is set")
        if bool(self.dcct_team_id) != bool(self.dcct_channel_id):
            problems.append("DCCT_TEAM_ID and DCCT_CHANNEL_ID: set both or neither")
        if self.dcct_mailbox and not self.escalation_sender_mailbox:
            problems.append("ESCALATION_SENDER_MAILBOX: required when DCCT_MAILBOX is set")
        if not 0 < self.escalation_reminder_hours <= self.escalation_deadline_hours:
            problems.append(
                "ESCALATION_REMINDER_HOURS: must be above 0 and at most ESCALATION_DEADLINE_HOURS"
            )
        if self.directline_secret and not (self.webchat_api_audience and self.webchat_token_issuer):
            problems.append(
                "WEBCHAT_API_AUDIENCE and WEBCHAT_TOKEN_ISSUER: required with DIRECTLINE_SECRET"
            )
        if self.webchat_tokens_per_minute < 1:
            problems.append("WEBCHAT_TOKENS_PER_MINUTE: must be at least 1")
        client, _, tenant = self.graph_credentials
        if self.graph_client_id and not tenant:
            problems.append("GRAPH_TENANT_ID: required when GRAPH_CLIENT_ID is set")
        if (
            client
            and not self.graph_credentials[1]
            and self.app_type is not AppType.USER_ASSIGNED_MSI
        ):
            problems.append("GRAPH_CLIENT_SECRET: required for Graph (or MicrosoftAppPassword)")
        return problems

    @classmethod
    def describe(cls) -> list[tuple[str, str, str]]:
        """(variable, default, help) for every setting, for docs and `bot settings`."""
        rows = []
        for f in fields(cls):
            default = "" if f.default is MISSING or f.metadata["secret"] else str(f.default or "")
            rows.append((f.metadata["env"], default, f.metadata["help"]))
        return rows


def _parse(kind: Any, raw: str) -> Any:
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
