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


class FakeAccessTokens:
    """Stands in for the managed identity's tokens: "token-1", "token-2", … each
    `lifetime` seconds long; `calls` counts the requests."""

    def __init__(self, lifetime: float = 3600.0) -> None:
        self.lifetime = lifetime
        self.calls = 0

    @property
    def current(self) -> str:
        return f"token-{self.calls}"

    async def token_with_lifetime(self) -> tuple[str, float]:
        self.calls += 1
        return self.current, self.lifetime
