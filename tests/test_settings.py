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
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        Settings.from_env(env)


def test_secrets_have_no_default_in_the_description() -> None:
    rows = {env: default for env, default, _ in Settings.describe()}
    assert rows["MicrosoftAppPassword"] == ""
