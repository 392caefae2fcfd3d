from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import AppType, Settings, SettingsError

APP = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"


def test_defaults_are_local_mode() -> None:
    settings = Settings.from_env({})
    assert settings.local_mode
    assert settings.bot.port == 3978
    assert settings.store.database_path == Path("data/adviser.sqlite3")


def test_values_are_typed() -> None:
    settings = Settings.from_env({"PORT": "8080", "MicrosoftAppType": "MultiTenant"})
    assert settings.bot.port == 8080
    assert settings.bot.app_type is AppType.MULTI_TENANT


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"PORT": "eighty"}, "PORT: expected a whole number"),
        ({"PORT": "70000"}, "PORT: must be between"),
        ({"MicrosoftAppType": "Shared"}, "MicrosoftAppType: expected one of"),
        ({"MicrosoftAppId": APP, "MicrosoftAppTenantId": TENANT}, "MicrosoftAppPassword: required"),
        ({"MicrosoftAppId": APP, "MicrosoftAppPassword": "s"}, "MicrosoftAppTenantId: required"),
        ({"MicrosoftAppId": APP, "MicrosoftAppPassword": "s"}, "CARD_SIGNING_KEY: required"),
        ({"CARD_SIGNING_KEY": "short"}, "CARD_SIGNING_KEY: must be at least 32"),
        ({"DCCT_TEAM_ID": "19:x@thread.tacv2"}, "DCCT_TEAM_ID and DCCT_CHANNEL_ID: set both"),
        ({"DCCT_MAILBOX": "dcct@example.org"}, "ESCALATION_SENDER_MAILBOX: required"),
        ({"ESCALATION_REMINDER_HOURS": "20"}, "ESCALATION_REMINDER_HOURS: must be above 0"),
        ({"GRAPH_CLIENT_ID": APP}, "GRAPH_TENANT_ID: required"),
        ({"ESCALATION_DEADLINE_HOURS": "soon"}, "ESCALATION_DEADLINE_HOURS: expected a number"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


# What main.parameters.json ships with, and values pasted into the wrong field: each
# must stop the bot at start, naming the variable, not surface on the first escalation.
@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"DCCT_TEAM_ID": "<19:...@thread.tacv2 or empty>"}, "DCCT_TEAM_ID: .* placeholder"),
        ({"DCCT_MAILBOX": "<dcct@parliament.scot or empty>"}, "DCCT_MAILBOX: .* placeholder"),
        ({"WEBCHAT_ALLOWED_ORIGINS": "https://<tenant>.sharepoint.com"}, "ORIGINS: .* placeholder"),
        ({"WEBCHAT_API_AUDIENCE": "<client id of the API app, or empty>"}, "AUDIENCE: .* placeh"),
        ({"MicrosoftAppPassword": "<secret>"}, "MicrosoftAppPassword: .* placeholder"),
        ({"CARD_SIGNING_KEY": "changeme"}, "CARD_SIGNING_KEY: .* placeholder"),
        ({"MicrosoftAppId": "my-bot"}, "MicrosoftAppId: expected a GUID"),
        ({"MicrosoftAppTenantId": "not a tenant"}, "MicrosoftAppTenantId: expected the tenant"),
        ({"DCCT_CHANNEL_ID": "General"}, "DCCT_CHANNEL_ID: expected a Teams id"),
        ({"DCCT_MAILBOX": "dcct at parliament"}, "DCCT_MAILBOX: expected an e-mail"),
        ({"GRAPH_BASE_URL": "graph.microsoft.com/v1.0"}, "GRAPH_BASE_URL: expected an https"),
        ({"DIRECTLINE_ENDPOINT": "http://directline.example.org"}, "ENDPOINT: expected an https"),
        ({"WEBCHAT_ALLOWED_ORIGINS": "https://a.org,https://b.org/sites/x"}, "expected an origin"),
        ({"WEBCHAT_API_AUDIENCE": "adviser"}, "WEBCHAT_API_AUDIENCE: expected the API app"),
        ({"TEAMS_APP_CATALOG_ID": "catalog-app"}, "TEAMS_APP_CATALOG_ID: expected a GUID"),
    ],
)
def test_placeholders_and_misshapen_values_are_refused(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_every_problem_is_named_at_once() -> None:
    env = {"PORT": "eighty", "DCCT_MAILBOX": "<x>", "MicrosoftAppId": "bot"}
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(env)
    for name in env:
        assert f"{name}:" in str(failure.value)


def test_lists_are_parsed_once_into_tuples() -> None:
    settings = Settings.from_env(
        {
            "WEBCHAT_ALLOWED_ORIGINS": " https://a.sharepoint.com/ , http://localhost:4321",
            "WEBCHAT_TOKEN_ISSUER": "https://sts.windows.net/t/,",
            "WEBCHAT_API_AUDIENCE": f"{APP}, api://adviser",
        }
    )
    assert settings.webchat.allowed_origins == ("https://a.sharepoint.com", "http://localhost:4321")
    assert settings.webchat.token_issuers == ("https://sts.windows.net/t/",)
    assert settings.webchat.api_audiences == (APP, "api://adviser")


def test_real_looking_values_pass() -> None:
    settings = Settings.from_env(
        {
            "MicrosoftAppId": APP,
            "MicrosoftAppPassword": "Abc8Q~d.e...f_g-h",  # secrets may hold dots
            "MicrosoftAppTenantId": TENANT,
            "CARD_SIGNING_KEY": "k" * 32,
            "DCCT_TEAM_ID": "19:Ab3_cD-e@thread.tacv2",
            "DCCT_CHANNEL_ID": "19:f00d@thread.skype",
            "DCCT_MAILBOX": "dcct@parliament.scot",
            "ESCALATION_SENDER_MAILBOX": "policy-adviser@parliament.scot",
            "DCCT_SERVICE_URL": "https://smba.trafficmanager.net/uk/",
        }
    )
    assert settings.escalation.dcct_channel_id == "19:f00d@thread.skype"


def test_secrets_have_no_default_in_the_description() -> None:
    rows = {env: default for env, default, _ in Settings.describe()}
    assert rows["MicrosoftAppPassword"] == ""


def test_graph_uses_the_bots_credentials_unless_overridden() -> None:
    bot = {"MicrosoftAppId": APP, "MicrosoftAppPassword": "pw", "MicrosoftAppTenantId": TENANT,
           "CARD_SIGNING_KEY": "k" * 32}  # fmt: skip
    assert Settings.from_env(bot).graph_credentials == (APP, "pw", TENANT)
    other = "0a0a0a0a-1111-4222-8333-444444444444"
    own = {**bot, "GRAPH_CLIENT_ID": other, "GRAPH_CLIENT_SECRET": "gs",
           "GRAPH_TENANT_ID": "gt.onmicrosoft.com"}  # fmt: skip
    assert Settings.from_env(own).graph_credentials == (other, "gs", "gt.onmicrosoft.com")
