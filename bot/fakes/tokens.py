"""A stand-in for the bot's outbound token source (msal in production)."""

from __future__ import annotations


class StaticBotTokens:
    """The fake: one fixed token, and a count of how often it was asked for."""

    def __init__(self, value: str = "test-bot-token") -> None:
        self.value = value
        self.calls = 0

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str:
        self.calls += 1
        return self.value
