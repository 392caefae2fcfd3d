"""Reading what arrives, once, the same way at every endpoint: bodies, activities and
the serviceUrl a reply will go to.

The bot's messaging endpoint is on the public internet, so every input must get a clear
4xx, never a 500 or a hang. `read_json` is called first in each handler, before
authentication: it limits the size, accepts only UTF-8 (what RFC 8259 requires between
systems), limits nesting before anything recurses into the value, refuses integers
past Python's digit limit, NaN/Infinity and lone surrogates. The checks are plain
Python (no SDK), so every channel (botbuilder's, the Agents SDK's, the local Direct
Line stand-in, the web part's token endpoint) uses the same ones.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

MAX_BODY_BYTES = 256 * 1024
MAX_DEPTH = 32  # activities nest about 8 deep; cards inside them a little more
JSON_TYPES = frozenset({"application/json"})
_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKETS = re.compile(r"[\[\]{}]")


class BadInput(Exception):  # noqa: N818 - reads better at the call site
    """The request cannot be used. `status` is the 4xx to answer; `message` says why."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


async def read_body(request: web.Request, max_bytes: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, refused (413) past `max_bytes` before more of it is read."""
    if request.content_length is not None and request.content_length > max_bytes:
        raise BadInput(413, "too_large", f"the body is larger than {max_bytes} bytes")
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise BadInput(413, "too_large", f"the body is larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def read_json(
    request: web.Request, *, max_bytes: int = MAX_BODY_BYTES, max_depth: int = MAX_DEPTH
) -> Any:
    """The body as JSON, read once; `BadInput` (400, 413 or 415) for anything else."""
    check_json_type(request)
    return parse_json(await read_body(request, max_bytes), max_depth=max_depth)


async def read_optional_json(request: web.Request, *, max_bytes: int = MAX_BODY_BYTES) -> Any:
    """Like `read_json`, but an empty body (whatever its Content-Type) is None."""
    raw = await read_body(request, max_bytes)
    if not raw.strip():
        return None
    check_json_type(request)
    return parse_json(raw)


def check_json_type(request: web.Request) -> None:
    """`BadInput` 415 unless the body is declared as JSON in UTF-8."""
    if request.content_type not in JSON_TYPES:
        raise BadInput(415, "unsupported_media_type", "expected Content-Type application/json")
    charset = (request.charset or "utf-8").strip().strip('"').lower()
    if charset not in ("utf-8", "utf8"):
        raise BadInput(415, "unsupported_media_type", "JSON must be sent as UTF-8")


def parse_json(raw: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Strict JSON from UTF-8 bytes: `BadInput` 400 unless every check passes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(400, "bad_encoding", "the body is not UTF-8") from None
    if not text.strip():
        raise BadInput(400, "empty_body", "the body is empty")
    if nesting_depth(text) > max_depth:
        raise BadInput(400, "too_deep", f"JSON nested deeper than {max_depth} levels")
    try:
        value = json.loads(text, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        # ValueError covers bad syntax and integers past sys.get_int_max_str_digits().
        raise BadInput(400, "bad_json", "the body is not valid JSON") from None
    if not _encodable(value):
        raise BadInput(400, "bad_json", "the body has text that is not valid Unicode")
    return value


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest, counted without recursion (strings skipped)."""
    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub("", text)):
        depth += 1 if bracket in "[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _encodable(value: Any) -> bool:
    """No lone surrogates anywhere ("\\ud800" parses, but can never be sent on)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


# --- Bot Framework activities ----------------------------------------------------------

_OPTIONAL_TEXT = ("id", "channelId", "text", "name", "replyToId", "locale", "textFormat")
# Every activity a channel sends names its sender and the bot: a reply is addressed from
# them (the Agents SDK cannot even build an invoke's response without the recipient).
_ACCOUNTS = ("from", "recipient")


def check_activity(body: Any) -> dict[str, Any]:
    """A Bot Framework activity with the fields every turn relies on in their JSON types;
    `BadInput` 400 naming the first one that is not. (The SDKs' own deserialisers accept
    a list for an id and fail later, mid-turn, with a 500.)"""
    if not isinstance(body, dict):
        raise BadInput(400, "bad_activity", "the body is not a Bot Framework activity")
    if not isinstance(body.get("type"), str) or not body["type"]:
        raise BadInput(400, "bad_activity", "activity needs a type")
    if not isinstance(body.get("serviceUrl"), str) or not body["serviceUrl"]:
        raise BadInput(400, "bad_activity", "activity needs serviceUrl and conversation.id")
    conversation = body.get("conversation")
    if not isinstance(conversation, dict) or not _is_text(conversation.get("id")):
        raise BadInput(400, "bad_activity", "activity needs serviceUrl and conversation.id")
    for name in _OPTIONAL_TEXT:
        if body.get(name) is not None and not isinstance(body[name], str):
            raise BadInput(400, "bad_activity", f"activity {name} must be a string")
    for name in _ACCOUNTS:
        account = body.get(name)
        if not isinstance(account, dict) or not _optional_text(account, "id", "name"):
            raise BadInput(400, "bad_activity", f"activity needs {name}, an account")
    if not _optional_text(conversation, "name", "conversationType", "tenantId"):
        raise BadInput(400, "bad_activity", "activity conversation has a field of the wrong type")
    for name in ("entities", "attachments", "membersAdded", "membersRemoved"):
        if body.get(name) is not None and not (
            isinstance(body[name], list) and all(isinstance(i, dict) for i in body[name])
        ):
            raise BadInput(400, "bad_activity", f"activity {name} must be a list of objects")
    if body.get("channelData") is not None and not isinstance(body["channelData"], dict):
        raise BadInput(400, "bad_activity", "activity channelData must be an object")
    return body


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and len(value) <= 1024


def _optional_text(mapping: dict[str, Any], *names: str) -> bool:
    return all(mapping.get(n) is None or isinstance(mapping[n], str) for n in names)


# --- where replies go -------------------------------------------------------------------


class ServiceUrls:
    """Which `serviceUrl`s a reply may be sent to: an http(s) base URL with a host, no
    query or fragment, and never the bot's own endpoints (a reply posted there is a new
    activity, whose reply is another: a loop). `own_prefixes` are paths of this server
    that do stand in for a channel (the local Direct Line stand-in's Bot Connector)."""

    def __init__(self, own_prefixes: Iterable[str] = ()) -> None:
        self.own_prefixes = list(own_prefixes)

    def allow_own(self, prefix: str) -> None:
        self.own_prefixes.append(prefix)

    def check(self, service_url: str, request: web.Request) -> None:
        """`BadInput` 400 unless a reply may go to `service_url`."""
        try:
            parts = urlsplit(service_url)
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise BadInput(400, "bad_service_url", "serviceUrl is not a URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise BadInput(400, "bad_service_url", "serviceUrl must be an http(s) URL")
        if parts.query or parts.fragment or "?" in service_url or "#" in service_url:
            raise BadInput(400, "bad_service_url", "serviceUrl must not have a query")
        if "/api/messages" in parts.path:  # a bot's endpoint, never a Bot Connector's
            raise BadInput(400, "bad_service_url", "serviceUrl points at a bot")
        if self._is_self(parts.hostname, port, request):
            path = "/" + parts.path.lstrip("/")
            if not any(path.startswith(prefix) for prefix in self.own_prefixes):
                raise BadInput(400, "bad_service_url", "serviceUrl points at this bot")

    @staticmethod
    def _is_self(host: str, port: int, request: web.Request) -> bool:
        listening = request.transport.get_extra_info("sockname") if request.transport else None
        own_port = int(listening[1]) if listening else None
        if request.host:
            own_host, host_port = _host_port(request.host)
            if own_host == host.lower() and host_port in (None, port):
                return True
        if port != own_port:
            return False
        if host.lower() == "localhost" or host.lower().endswith(".localhost"):
            return True
        address = _address(host)
        if address is None:
            return False
        own = _address(str(listening[0])) if listening else None
        return address.is_loopback or address.is_unspecified or address == own


def _host_port(host_header: str) -> tuple[str, int | None]:
    """(name, port) from a Host header; no port when it has none (behind an ingress,
    whose public port is not ours to know)."""
    parts = urlsplit(f"//{host_header}")
    try:
        port = parts.port
    except ValueError:
        port = None
    return (parts.hostname or "").lower(), port


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """A literal address in any form a client would accept ("127.1", "2130706433")."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
