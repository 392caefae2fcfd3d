from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import AppType, Settings, SettingsError


def test_defaults_are_local_mode() -> None:
    settings = Settings.from_env({})
    assert settings.local_mode
    assert settings.port == 3978
    assert settings.database_path == Path("data/adviser.sqlite3")


def test_values_are_typed() -> None:
    settings = Settings.from_env({"PORT": "8080", "MicrosoftAppType": "MultiTenant"})
    assert settings.port == 8080
    assert settings.app_type is AppType.MULTI_TENANT


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT: expected a whole number"),
        ({"PORT": "70000"}, "PORT: must be between"),
        ({"MicrosoftAppType": "Shared"}, "MicrosoftAppType: expected one of"),
        ({"MicrosoftAppId": "abc", "MicrosoftAppTenantId": "t"}, "MicrosoftAppPassword: required"),
        ({"MicrosoftAppId": "abc", "MicrosoftAppPassword": "s"}, "MicrosoftAppTenantId: required"),
        ({"MicrosoftAppId": "abc", "MicrosoftAppPassword": "s"}, "CARD_SIGNING_KEY: required"),
        ({"CARD_SIGNING_KEY": "short"}, "CARD_SIGNING_KEY: must be at least 32"),
        ({"DCCT_TEAM_ID": "19:x"}, "DCCT_TEAM_ID and DCCT_CHANNEL_ID: set both"),
        ({"DCCT_MAILBOX": "dcct@example.org"}, "ESCALATION_SENDER_MAILBOX: required"),
        ({"ESCALATION_REMINDER_HOURS": "20"}, "ESCALATION_REMINDER_HOURS: must be above 0"),
        ({"GRAPH_CLIENT_ID": "g"}, "GRAPH_TENANT_ID: required"),
        ({"ESCALATION_DEADLINE_HOURS": "soon"}, "ESCALATION_DEADLINE_HOURS: expected a number"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_secrets_have_no_default_in_the_description() -> None:
    rows = {env: default for env, default, _ in Settings.describe()}
    assert rows["MicrosoftAppPassword"] == ""


def test_graph_uses_the_bots_credentials_unless_overridden() -> None:
    bot = {"MicrosoftAppId": "app", "MicrosoftAppPassword": "pw", "MicrosoftAppTenantId": "t",
           "CARD_SIGNING_KEY": "k" * 32}  # fmt: skip
    assert Settings.from_env(bot).graph_credentials == ("app", "pw", "t")
    own = {**bot, "GRAPH_CLIENT_ID": "g", "GRAPH_CLIENT_SECRET": "gs", "GRAPH_TENANT_ID": "gt"}
    assert Settings.from_env(own).graph_credentials == ("g", "gs", "gt")
