"""The one body reader: every hostile body is a clear 4xx, decided before anything parses
further, and a serviceUrl must never point a reply back at the bot."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.channels.inbound import (
    MAX_DEPTH,
    BadInput,
    ServiceUrls,
    check_activity,
    nesting_depth,
    parse_json,
)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        (b"", "empty_body"),
        (b"   ", "empty_body"),
        (b"\xff\xfe{\x00}\x00", "bad_encoding"),
        (b'{"text": "\xc3\x28"}', "bad_encoding"),
        (b"[" * 10_000 + b"]" * 10_000, "too_deep"),
        (b'{"a":' * 2_000 + b"1" + b"}" * 2_000, "too_deep"),
        (b'{"id": ' + b"1" * 4_301 + b"}", "bad_json"),
        (b'{"a": NaN}', "bad_json"),
        (b"Infinity", "bad_json"),
        (b'{"text": "\\ud800"}', "bad_json"),
        (b'{"\\udfff": 1}', "bad_json"),
        (b"\xef\xbb\xbf{}", "bad_json"),  # a byte-order mark is not JSON
        (b"{", "bad_json"),
    ],
)
def test_hostile_bodies_are_400_with_a_reason(raw: bytes, code: str) -> None:
    with pytest.raises(BadInput) as caught:
        parse_json(raw)
    assert (caught.value.status, caught.value.code) == (400, code)


def test_good_json_passes_with_unicode_and_big_but_legal_numbers() -> None:
    value = parse_json('{"text": "Is this OK? 👍 é", "n": 123456789012345678901234567890}'.encode())
    assert value == {"text": "Is this OK? 👍 é", "n": 123456789012345678901234567890}
    assert parse_json(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None


def test_nesting_depth_ignores_brackets_inside_strings() -> None:
    assert nesting_depth('{"a": "[[[[{{{{", "b": ["\\"[", {}]}') == 3
    assert nesting_depth("[]") == 1


def activity(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "type": "message",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "conversation": {"id": "a:1"},
        "from": {"id": "29:u", "name": "U"},
        "recipient": {"id": "28:bot", "name": "Policy adviser"},
        "text": "hi",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    "change",
    [
        {"type": None},
        {"type": ["message"]},
        {"serviceUrl": 5},
        {"conversation": 72874},
        {"conversation": {"id": []}},
        {"conversation": {"id": {}}},
        {"conversation": {"id": "x" * 2000}},
        {"conversation": {"id": "a", "tenantId": 1}},
        {"from": "u1"},
        {"from": {"id": ["u"]}},
        {"from": None},
        {"recipient": None},
        {"recipient": "b1"},
        {"text": {"a": 1}},
        {"id": 1.5},
        {"name": []},
        {"entities": [1, 2]},
        {"membersAdded": {"id": "x"}},
        {"channelData": "x"},
    ],
)
def test_activities_with_fields_of_the_wrong_type_are_400(change: dict[str, Any]) -> None:
    with pytest.raises(BadInput) as caught:
        check_activity(activity(**change))
    assert caught.value.status == 400


def test_a_teams_activity_passes_unchanged() -> None:
    good = activity(channelData={"tenant": {"id": "t"}}, entities=[{"type": "clientInfo"}])
    assert check_activity(good) is good


def request_to(host: str, port: int = 3978) -> web.Request:
    class Transport:
        def get_extra_info(self, name: str, default: Any = None) -> Any:
            return ("127.0.0.1", port) if name == "sockname" else default

        def is_closing(self) -> bool:
            return False

    return make_mocked_request(
        "POST", "/api/messages", headers={"Host": host}, transport=Transport()
    )


@pytest.mark.parametrize(
    "service_url",
    [
        "http://127.0.0.1:3978/api/messages?x=",
        "http://127.0.0.1:3978/",
        "http://localhost:3978/",
        "http://127.1:3978/",
        "http://2130706433:3978/",
        "http://[::1]:3978/",
        "http://0.0.0.0:3978/",
        "https://adviser.example.org/",  # our public name, behind an ingress
        "https://elsewhere.example/api/messages",
        "https://smba.trafficmanager.net/teams/?a=b",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "http://[::1",
        "not a url",
        "",
    ],
)
def test_service_urls_that_loop_back_or_are_not_urls_are_refused(service_url: str) -> None:
    request = request_to("adviser.example.org")
    with pytest.raises(BadInput) as caught:
        ServiceUrls().check(service_url, request)
    assert caught.value.status == 400


@pytest.mark.parametrize(
    "service_url",
    [
        "https://smba.trafficmanager.net/teams/",
        "https://directline.botframework.com/",
        "http://127.0.0.1:40001/",  # a local fake Bot Connector on another port
        "http://localhost:40001/",
    ],
)
def test_connector_urls_elsewhere_are_allowed(service_url: str) -> None:
    ServiceUrls().check(service_url, request_to("127.0.0.1:3978"))


def test_a_stand_in_on_the_bot_itself_is_allowed_only_under_its_prefix() -> None:
    urls = ServiceUrls(["/directline-local/"])
    request = request_to("127.0.0.1:3978")
    urls.check("http://127.0.0.1:3978/directline-local/", request)
    with pytest.raises(BadInput):
        urls.check("http://127.0.0.1:3978/api/", request)
