"""A local fake of the Bot Connector service (the `serviceUrl` Teams gives the bot).

It records what the bot sends and answers the way the real service does: replies and
new activities get `201 {"id": …}`, updates `200 {"id": …}`, new conversations
`201 {"id", "activityId"}`. Failures can be queued (`fail_next`) to test retries,
including `429` with `Retry-After`.

    async with FakeConnector() as connector:
        activity["serviceUrl"] = connector.service_url
        ...
        sent = await connector.wait_for(1)
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.fakes.server import LocalServer


@dataclass(frozen=True)
class Sent:
    """One call the bot made: POST reply/new activity, PUT update, or new conversation."""

    method: str
    path: str
    conversation_id: str
    reply_to_id: str | None
    activity: dict[str, Any]
    authorization: str | None


@dataclass
class Failure:
    status: int
    retry_after: int | None = None
    code: str = "ServiceError"
    path: str | None = None  # only calls to this path (None: any call)


@dataclass
class Hold:
    """A call kept waiting until the test says (see `FakeConnector.hold_next`)."""

    path: str
    arrived: asyncio.Event = field(default_factory=asyncio.Event)  # the call is being held
    release: asyncio.Event = field(default_factory=asyncio.Event)  # set: let it go on
    ended: asyncio.Event = field(default_factory=asyncio.Event)  # answered or dropped
    request: web.Request | None = None

    def caller_gone(self) -> bool:
        """Has the caller hung up on the held call (e.g. its process was killed)?"""
        transport = self.request.transport if self.request is not None else None
        return self.request is not None and (transport is None or transport.is_closing())


@dataclass
class Member:
    id: str
    name: str
    aad_object_id: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "aadObjectId": self.aad_object_id, **self.extra}


class FakeConnector(LocalServer):
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.sent: list[Sent] = []
        self.record_limit: int | None = None  # keep only the newest N (long benchmarks)
        self.members: dict[str, list[Member]] = {}  # conversation or team id -> members
        self._failures: list[Failure] = []
        self._holds: list[Hold] = []
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._host, self._port = host, port
        self.app = web.Application()
        base = "/v3/conversations"
        self.app.router.add_post(base, self._create_conversation)
        self.app.router.add_post(base + "/{cid}/activities", self._post_activity)
        self.app.router.add_post(base + "/{cid}/activities/{aid}", self._post_activity)
        self.app.router.add_put(base + "/{cid}/activities/{aid}", self._put_activity)
        self.app.router.add_get(base + "/{cid}/members", self._get_members)
        self.app.router.add_get(base + "/{cid}/members/{uid}", self._get_member)
        self.app.router.add_get(base + "/{cid}/pagedmembers", self._get_paged_members)

    @property
    def service_url(self) -> str:
        """With the trailing slash, as Teams sends it."""
        return f"http://{self._host}:{self._port}/"

    async def start(self) -> FakeConnector:
        self._port = await self._serve(self.app, self._host, self._port)
        return self

    def fail_next(
        self, status: int, times: int = 1, retry_after: int | None = None, path: str | None = None
    ) -> None:
        """Answer the next `times` sends (to `path`, if given) with `status`, e.g. 429
        with Retry-After."""
        self._failures += [Failure(status, retry_after, path=path) for _ in range(times)]

    def hold_next(self, path: str) -> Hold:
        """Keep the next call to `path` waiting until `release` is set. If the caller is
        gone by then (killed mid-send), the call is dropped unrecorded, as a service drops
        a request it never finished receiving."""
        hold = Hold(path)
        self._holds.append(hold)
        return hold

    def activities(self, conversation_id: str | None = None) -> list[dict[str, Any]]:
        return [
            s.activity
            for s in self.sent
            if conversation_id is None or s.conversation_id == conversation_id
        ]

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[Sent]:  # noqa: ASYNC109
        """Wait until at least `count` calls were recorded; return them all."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.sent) >= count), timeout)
        return list(self.sent)

    async def wait_until(
        self,
        predicate: Callable[[list[Sent]], bool],
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> list[Sent]:
        """Wait until `predicate(all calls so far)` holds; return the calls."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self.sent)), timeout)
        return list(self.sent)

    def _failure_for(self, request: web.Request) -> web.Response | None:
        """The queued failure for this call, if any, as the service would answer it."""
        failure = next((f for f in self._failures if f.path in (None, request.path)), None)
        if failure is None:
            return None
        self._failures.remove(failure)
        headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
        body = {"error": {"code": failure.code, "message": f"fake failure {failure.status}"}}
        return web.json_response(body, status=failure.status, headers=headers)

    async def _record(self, request: web.Request, reply_to: str | None) -> web.Response | None:
        hold = next((h for h in self._holds if h.path == request.path), None)
        if hold is not None:
            self._holds.remove(hold)
            hold.request = request
            hold.arrived.set()
            try:
                await hold.release.wait()
                if hold.caller_gone():
                    return web.Response(status=499)
                return await self._record_now(request, reply_to)
            finally:
                hold.ended.set()
        return await self._record_now(request, reply_to)

    async def _record_now(self, request: web.Request, reply_to: str | None) -> web.Response | None:
        failed = self._failure_for(request)
        if failed is not None:
            return failed
        try:
            activity = await request.json()
        except json.JSONDecodeError:
            return web.json_response(
                {"error": {"code": "BadArgument", "message": "body is not JSON"}}, status=400
            )
        sent = Sent(
            method=request.method,
            path=request.path,
            conversation_id=request.match_info.get("cid", ""),
            reply_to_id=reply_to,
            activity=activity,
            authorization=request.headers.get("Authorization"),
        )
        async with self._changed:
            self.sent.append(sent)
            if self.record_limit and len(self.sent) > self.record_limit:
                del self.sent[: -self.record_limit]
            self._changed.notify_all()
        return None

    async def _post_activity(self, request: web.Request) -> web.Response:
        failed = await self._record(request, request.match_info.get("aid"))
        return failed or web.json_response({"id": f"activity-{next(self._ids)}"}, status=201)

    async def _put_activity(self, request: web.Request) -> web.Response:
        failed = await self._record(request, None)
        return failed or web.json_response({"id": request.match_info["aid"]}, status=200)

    async def _create_conversation(self, request: web.Request) -> web.Response:
        failed = await self._record(request, None)
        if failed:
            return failed
        number = next(self._ids)
        return web.json_response(
            {"id": f"a:fake-conversation-{number}", "activityId": f"activity-{number}"},
            status=201,
        )

    async def _get_members(self, request: web.Request) -> web.Response:
        failed = self._failure_for(request)
        if failed is not None:
            return failed
        members = self.members.get(request.match_info["cid"], [])
        return web.json_response([m.to_json() for m in members])

    async def _get_paged_members(self, request: web.Request) -> web.Response:
        members = self.members.get(request.match_info["cid"], [])
        return web.json_response({"members": [m.to_json() for m in members]})

    async def _get_member(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        for member in self.members.get(request.match_info["cid"], []):
            if uid in (member.id, member.aad_object_id):
                return web.json_response(member.to_json())
        body = {"error": {"code": "MemberNotFoundInConversation", "message": "Member not found"}}
        return web.json_response(body, status=404)
