"""The insights in Teams (the `insights` command) and on the page (`GET /insights`):
for members of the DCCT team only, with small counts and question text hidden."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import jsonschema
import jwt
import pytest
from aiohttp import web

from bot.app import ANSWERS_KEY, DATABASE_KEY, FEEDBACK_KEY
from bot.clock import FakeClock
from bot.core import Adviser
from bot.fakes import activities
from bot.fakes.activities import TeamsUser
from bot.fakes.channel_issuer import ChannelIssuer
from bot.fakes.connector import FakeConnector, Member
from bot.fakes.tokens import StaticBotTokens
from bot.store.feedback import Feedback
from tests.channels.conftest import Running, card_text, cards_in, local_settings, start
from tests.conftest import ROOT
from tests.escalation.conftest import DCCT_CHANNEL, DCCT_MEMBER, DCCT_TEAM, START, STRANGER
from tests.insights import seed

AUDIENCE = "api://adviser.example.org/11111111-2222-3333-4444-555555555555"
ISSUER = "https://login.microsoftonline.com/tenant-1/v2.0"
WEEK1 = START - timedelta(weeks=3)  # Wednesday 4 November 2026: in the last twelve weeks
SCRIPT = "<script>alert('x')</script> & <b>bold</b>"
CARD_SCHEMA = json.loads((ROOT / "tests/data/schemas/adaptive-card-1.5.json").read_text())
PRIVATE = (seed.UNSHARED_QUESTION, "Private question number", "Asker 1", "aad-asker-1")


@dataclass
class Site:
    url: str
    app: web.Application
    connector: FakeConnector
    keys: ChannelIssuer
    http: aiohttp.ClientSession

    def token(self, oid: str, **changes: Any) -> str:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "oid": oid, "name": "Dana Comms",
                  "iat": now - 5, "exp": now + 3600, **changes}  # fmt: skip
        return jwt.encode(claims, self.keys.key, algorithm="RS256", headers={"kid": self.keys.kid})

    async def page(
        self, token: str | None, query: str = "", **headers: str
    ) -> tuple[int, str, Any]:
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.get(f"{self.url}/insights{query}", headers=headers) as response:
            return response.status, await response.text(), response.headers

    async def say(self, user: TeamsUser, text: str) -> Any:
        before = len(self.connector.sent)
        activity = activities.message(text, user, self.connector.service_url)
        async with self.http.post(f"{self.url}/api/messages", json=activity) as response:
            assert response.status in (200, 201)
        [reply] = (await self.connector.wait_for(before + 1))[before:]
        return reply


async def seed_app(app: web.Application, week1: Any = WEEK1) -> None:
    await seed.seed_answers(app[ANSWERS_KEY], week1)
    await seed.seed_feedback(app[FEEDBACK_KEY], week1)
    await seed.seed_tickets(app[DATABASE_KEY], week1)
    await app[FEEDBACK_KEY].record(
        Feedback("card-script", seed.PARTY, "not_ok", "v", False, "msteams", week1, question=SCRIPT)
    )


@pytest.fixture
async def site(
    request: pytest.FixtureRequest, tmp_path: Path, adviser: Adviser
) -> AsyncIterator[Site]:
    # Which setting holds the fake Bot Connector's address; by default the DCCT's own.
    address_setting = getattr(request, "param", "DCCT_SERVICE_URL")
    keys = ChannelIssuer().start()
    try:
        async with FakeConnector() as connector, aiohttp.ClientSession() as http:
            connector.members[DCCT_TEAM] = [
                Member(DCCT_MEMBER.id, DCCT_MEMBER.name, DCCT_MEMBER.aad_object_id)
            ]
            settings = local_settings(
                tmp_path,
                DCCT_TEAM_ID=DCCT_TEAM,
                DCCT_CHANNEL_ID=DCCT_CHANNEL,
                WEBCHAT_API_AUDIENCE=AUDIENCE,
                WEBCHAT_TOKEN_ISSUER=ISSUER,
                WEBCHAT_JWKS_URL=f"{keys.base_url}/v1/.well-known/keys",
                WEBCHAT_ALLOWED_ORIGINS="https://parliament.sharepoint.com",
                **{address_setting: connector.service_url},
            )
            runner, url, app = await start(
                settings, adviser, clock=FakeClock(START), bot_tokens=StaticBotTokens()
            )
            try:
                await seed_app(app)
                yield Site(url, app, connector, keys, http)
            finally:
                await runner.cleanup()
    finally:
        keys.stop()


def assert_private_things_hidden(shown: str) -> None:
    for private in PRIVATE:
        assert private not in shown


# --- Teams -----------------------------------------------------------------------------


async def test_a_dcct_member_gets_the_insights_card_in_teams(site: Site) -> None:
    reply = await site.say(DCCT_MEMBER, "insights")
    [card] = cards_in([reply])
    core = {k: v for k, v in card.items() if k != "msteams"}
    jsonschema.Draft6Validator(CARD_SCHEMA).validate(core)
    text = card_text(card)
    assert "Insights for the DCCT" in text
    assert "fewer than 5" in text
    assert "hidden" in text
    assert "Can I post in support of a political party?" in text
    assert "3.0 working hours" in text
    assert seed.SHARED_QUESTION in text, "sent with feedback, with consent"
    assert_private_things_hidden(text)
    assert "<script>" not in text, "user text is escaped Markdown on a card"


async def test_anyone_else_is_refused_in_teams(site: Site) -> None:
    reply = await site.say(STRANGER, "insights")
    assert cards_in([reply]) == []
    assert reply.activity["text"] == "The insights are for members of the DCCT team only."


async def test_when_teams_cannot_list_the_team_nothing_is_shown(site: Site) -> None:
    site.connector.fail_next(403, path=f"/v3/conversations/{DCCT_TEAM}/members")
    reply = await site.say(DCCT_MEMBER, "insights")
    assert cards_in([reply]) == []
    assert "couldn't check the DCCT team's members" in reply.activity["text"]


# --- the page ----------------------------------------------------------------------------


async def test_the_page_for_a_dcct_member_has_charts_tables_and_no_private_text(
    site: Site,
) -> None:
    status, html, headers = await site.page(site.token(DCCT_MEMBER.aad_object_id))
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    assert headers["Cache-Control"] == "no-store"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert '<html lang="en-GB">' in html
    assert "<script" not in html
    assert html.count("role='img'") == 3
    assert "<title id='chart" in html
    assert "<desc id='chart" in html
    assert "<caption>Questions per week, by verdict</caption>" in html
    assert "fewer than 5" in html
    assert "w/c 2 Nov 2026" in html
    assert "for Dana Comms" in html
    assert seed.SHARED_QUESTION in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold" in html
    assert_private_things_hidden(html)


async def test_the_page_refuses_anyone_not_signed_in_or_not_in_the_dcct(site: Site) -> None:
    status, _, headers = await site.page(None)
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    status, html, _ = await site.page(site.token(STRANGER.aad_object_id))
    assert status == 403
    assert "for members of the DCCT team" in html
    assert "Can I post in support" not in html
    expired = site.token(DCCT_MEMBER.aad_object_id, exp=int(time.time()) - 60)
    assert (await site.page(expired))[0] == 401
    other_audience = site.token(DCCT_MEMBER.aad_object_id, aud="api://someone-else")
    assert (await site.page(other_audience))[0] == 401


@pytest.mark.parametrize("site", ["TEAMS_SERVICE_URL"], indirect=True)
async def test_without_a_dcct_address_the_page_lists_the_team_at_the_teams_one(
    site: Site,
) -> None:
    """A page request brings no serviceUrl: with DCCT_SERVICE_URL empty the DCCT's members
    are asked for where every proactive Teams send goes, TEAMS_SERVICE_URL."""
    status, html, _ = await site.page(site.token(DCCT_MEMBER.aad_object_id))
    assert status == 200, html
    assert "for Dana Comms" in html
    assert (await site.page(site.token(STRANGER.aad_object_id)))[0] == 403


async def test_the_page_takes_a_period_and_says_what_is_wrong_with_one(site: Site) -> None:
    token = site.token(DCCT_MEMBER.aad_object_id)
    status, html, _ = await site.page(token, "?since=2026-11-02&until=2026-11-08")
    assert status == 200
    assert "2 Nov 2026 to 8 Nov 2026" in html
    assert "w/c 9 Nov 2026" not in html
    for query in ("?since=yesterday", "?since=2026-11-09&until=2026-11-01", "?until=2026-11-08"):
        status, html, _ = await site.page(token, query)
        assert status == 400, query
        assert "Bad dates" in html


async def test_the_sharepoint_origin_may_fetch_the_page(site: Site) -> None:
    origin = {"Origin": "https://parliament.sharepoint.com"}
    _, _, headers = await site.page(site.token(DCCT_MEMBER.aad_object_id), **origin)
    assert headers["Access-Control-Allow-Origin"] == "https://parliament.sharepoint.com"
    assert "GET" in headers["Access-Control-Allow-Methods"]
    _, _, headers = await site.page(site.token(DCCT_MEMBER.aad_object_id),
                                    Origin="https://evil.example")  # fmt: skip
    assert "Access-Control-Allow-Origin" not in headers


# --- local mode ---------------------------------------------------------------------------


async def test_local_mode_shows_the_page_and_card_to_the_person_at_the_machine(
    running: Running,
) -> None:
    await seed.seed_answers(running.app[ANSWERS_KEY], running.clock.now() - timedelta(days=2))
    async with running.http.get(f"{running.url}/insights") as response:
        assert response.status == 200
        html = await response.text()
    assert "Local mode: no sign-in" in html
    [reply] = await running.turn(activities.message("insights", TeamsUser(),
                                                    running.connector.service_url))  # fmt: skip
    assert "Insights for the DCCT" in card_text(cards_in([reply])[0])
