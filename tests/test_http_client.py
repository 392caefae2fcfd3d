"""bot/http.py: the one Retry-After parser, backoff and error hierarchy."""

from __future__ import annotations

import socket
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.app import HTTP_KEY, create_app
from bot.core import Adviser
from bot.http import HttpError, RetryPolicy, ServiceClient, TransportError, parse_retry_after
from bot.settings import Settings


@pytest.mark.parametrize(
    ("header", "seconds"),
    [(None, None), ("", None), ("3", 3.0), ("-2", 0.0), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_retry_after_is_seconds_or_nothing(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_backoff_doubles_honours_retry_after_and_stops_at_the_last_attempt() -> None:
    policy = RetryPolicy(attempts=3, base_delay=1.0, max_delay=10.0, jitter=False)
    assert [policy.delay(n, None) for n in range(3)] == [1.0, 2.0, None]
    assert policy.delay(0, 60.0) == 10.0  # capped
    handing_back = RetryPolicy(attempts=3, max_delay=10.0, hand_back_after=10.0)
    assert handing_back.delay(0, 10.0) == 10.0
    assert handing_back.delay(0, 11.0) is None  # the caller schedules it instead


async def no_token() -> None:
    return None


async def test_a_refused_connection_is_a_transient_transport_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with aiohttp.ClientSession() as session:
        client = ServiceClient(session, f"http://127.0.0.1:{port}", no_token, RetryPolicy())
        with pytest.raises(TransportError) as failure:
            await client.request("GET", "/anything")
    assert isinstance(failure.value, HttpError)
    assert failure.value.transient


async def test_the_app_owns_one_session_for_as_long_as_it_runs(
    adviser: Adviser, tmp_path: Path
) -> None:
    app = await create_app(
        Settings.from_env({"BOT_DATABASE_PATH": str(tmp_path / "bot.sqlite3")}), adviser
    )
    with pytest.raises(RuntimeError, match="not running"):
        app[HTTP_KEY]()
    runner = web.AppRunner(app)
    await runner.setup()
    session = app[HTTP_KEY]()
    assert not session.closed
    await runner.cleanup()
    assert session.closed
