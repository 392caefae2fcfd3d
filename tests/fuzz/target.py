"""`python -m tests.fuzz.target --port N`: `python -m bot serve` with two stand-ins.

The authenticated fuzz run needs the real server process, but nothing may leave the
machine: the bot's outbound token comes from `StaticBotTokens` (not msal and Entra ID)
and the directory is empty (no Graph). Everything else is `bot.server.run` unchanged,
settings from the environment included.
"""

from __future__ import annotations

import argparse
import sys

from bot.fakes.tokens import StaticBotTokens
from bot.graph.client import DirectoryUser
from bot.server import run


class EmptyDirectory:
    """Nobody has a manager; installs and mail go nowhere."""

    async def manager(self, user_id: str) -> DirectoryUser | None:
        return None

    async def install_app(self, user_id: str, catalog_app_id: str) -> None:
        return None

    async def send_mail(self, sender: str, to: str, subject: str, html: str) -> None:
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz.target")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    return run(
        host="127.0.0.1",
        port=args.port,
        bot_tokens=StaticBotTokens("fuzz-outbound-token"),
        directory=EmptyDirectory(),
    )


if __name__ == "__main__":
    sys.exit(main())
