"""A local Microsoft Graph: the directory, Teams app installs, mail and the Teams
activity feed, on 127.0.0.1.

It speaks Graph's wire format: JSON error bodies `{"error": {"code", "message"}}`,
404 `Request_ResourceNotFound` for a user with no manager, 409 for an app already
installed, 202 for sendMail, 204 for sendActivityNotification (400 for a body Graph
would refuse: an activity type the app's manifest does not declare, a text topic
without a teams.microsoft.com webUrl), and any status on demand (`fail_next`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from bot.fakes.server import LocalServer
from bot.packaging.manifest import load_template


def declared_activity_types() -> set[str]:
    """The activity types our Teams manifest declares: all Graph accepts from this app."""
    activities = load_template().get("activities", {})
    return {str(a["type"]) for a in activities.get("activityTypes", [])}


@dataclass
class FakeUser:
    id: str
    name: str
    mail: str
    manager: str | None = None


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    code: str
    endpoint: str | None  # only calls whose path ends so (None: any call)


@dataclass
class FakeGraph(LocalServer):
    token_prefix: str = "graph-token-"  # noqa: S105 - what FakeIdentity issues
    users: dict[str, FakeUser] = field(default_factory=dict)
    installed: dict[str, set[str]] = field(default_factory=dict)  # user id -> catalog ids
    mail: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[dict[str, Any]] = field(default_factory=list)  # {"user", **body}
    activity_types: set[str] = field(default_factory=declared_activity_types)
    requests: list[tuple[str, str]] = field(default_factory=list)
    manager_endpoint_forbidden: bool = False  # exercise the $expand=manager fallback
    _failures: list[_Failure] = field(default_factory=list)
    port: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1.0"

    def add(self, user: FakeUser) -> FakeUser:
        self.users[user.id] = user
        return user

    def fail_next(
        self,
        status: int,
        times: int = 1,
        retry_after: int | None = None,
        endpoint: str | None = None,
    ) -> None:
        """Answer the next `times` calls (whose path ends with `endpoint`, if given) with
        `status` and Graph's error body for it."""
        code = {403: "Forbidden", 429: "TooManyRequests", 500: "InternalServerError",
                503: "ServiceUnavailable"}.get(status, "generalException")  # fmt: skip
        self._failures += [_Failure(status, retry_after, code, endpoint)] * times

    async def start(self) -> FakeGraph:
        app = web.Application(middlewares=[self._gate])
        app.router.add_get("/v1.0/users/{uid}/manager", self._manager)
        app.router.add_get("/v1.0/users/{uid}", self._user)
        app.router.add_post("/v1.0/users/{uid}/teamwork/installedApps", self._install)
        app.router.add_get("/v1.0/users/{uid}/teamwork/installedApps", self._installed)
        app.router.add_post("/v1.0/users/{uid}/sendMail", self._send_mail)
        app.router.add_post(
            "/v1.0/users/{uid}/teamwork/sendActivityNotification", self._notify_activity
        )
        self.port = await self._serve(app, port=self.port)
        return self

    @web.middleware
    async def _gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.requests.append((request.method, request.path_qs))
        auth = request.headers.get("Authorization", "")
        if not auth.startswith(f"Bearer {self.token_prefix}"):
            return _error(401, "InvalidAuthenticationToken", "Access token is empty or invalid.")
        failure = next(
            (f for f in self._failures if f.endpoint is None or request.path.endswith(f.endpoint)),
            None,
        )
        if failure is not None:
            self._failures.remove(failure)
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else {}
            return _error(failure.status, failure.code, "Fake failure.", headers)
        response: web.StreamResponse = await handler(request)
        return response

    def _lookup(self, request: web.Request) -> FakeUser | None:
        uid = request.match_info["uid"]
        return self.users.get(uid) or next(
            (u for u in self.users.values() if u.mail.lower() == uid.lower()), None
        )

    async def _manager(self, request: web.Request) -> web.Response:
        if self.manager_endpoint_forbidden:
            return _error(403, "Authorization_RequestDenied", "Insufficient privileges.")
        user = self._lookup(request)
        if user is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        manager = self.users.get(user.manager or "")
        if manager is None:
            return _error(
                404, "Request_ResourceNotFound", f"Resource 'manager' does not exist for {user.id}."
            )
        return web.json_response(_user_json(manager))

    async def _user(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if user is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        body: dict[str, Any] = {"id": user.id}
        if "manager" in request.query.get("$expand", ""):
            manager = self.users.get(user.manager or "")
            if manager is not None:
                body["manager"] = _user_json(manager)
        return web.json_response(body)

    async def _install(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if user is None:
            return _error(404, "NotFound", "User not found.")
        bind = str((await request.json()).get("teamsApp@odata.bind", ""))
        catalog = bind.rsplit("/", 1)[-1]
        apps = self.installed.setdefault(user.id, set())
        if catalog in apps:
            return _error(409, "Conflict", "App is already installed.")
        apps.add(catalog)
        return web.Response(status=201)

    async def _installed(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        apps = sorted(self.installed.get(user.id, set())) if user else []
        return web.json_response({"value": [{"id": a} for a in apps]})

    async def _send_mail(self, request: web.Request) -> web.Response:
        self.mail.append({"from": request.match_info["uid"], **(await request.json())})
        return web.Response(status=202)

    async def _notify_activity(self, request: web.Request) -> web.Response:
        user = self._lookup(request)
        if user is None:
            return _error(404, "Request_ResourceNotFound", "Resource does not exist.")
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "BadRequest", "Unable to read JSON request payload.")
        problem = self._activity_problem(body)
        if problem:
            return _error(400, "BadRequest", problem)
        self.notifications.append({"user": user.id, **body})
        return web.Response(status=204)

    def _activity_problem(self, body: Any) -> str | None:
        """Why Graph would refuse this sendActivityNotification body, or None."""
        if not isinstance(body, dict):
            return "The request body must be a JSON object."
        topic = body.get("topic")
        if not isinstance(topic, dict) or topic.get("source") not in ("entityUrl", "text"):
            return "topic.source must be 'entityUrl' or 'text'."
        if not isinstance(topic.get("value"), str) or not topic["value"]:
            return "topic.value is required."
        if topic["source"] == "text" and not str(topic.get("webUrl", "")).startswith(
            "https://teams.microsoft.com/"
        ):
            return "topic.webUrl is required for a text topic and must be a Teams link."
        kind = body.get("activityType")
        if kind != "systemDefault" and kind not in self.activity_types:
            return f"Activity type '{kind}' is not declared in the app manifest."
        preview = body.get("previewText", {})
        if not isinstance(preview, dict) or not isinstance(preview.get("content", ""), str):
            return "previewText must be an itemBody with a string content."
        parameters = body.get("templateParameters", [])
        if not isinstance(parameters, list) or not all(
            isinstance(p, dict) and isinstance(p.get("name"), str)
            and isinstance(p.get("value"), str) for p in parameters
        ):  # fmt: skip
            return "templateParameters must be a list of {name, value} strings."
        if "chainId" in body and not isinstance(body["chainId"], int):
            return "chainId must be an Int64."
        return None


def _user_json(user: FakeUser) -> dict[str, Any]:
    return {
        "@odata.type": "#microsoft.graph.user",
        "id": user.id,
        "displayName": user.name,
        "mail": user.mail,
    }


def _error(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"request-id": "00000000-0000-0000-0000-000000000000"},
        }
    }
    return web.json_response(body, status=status, headers=headers)
