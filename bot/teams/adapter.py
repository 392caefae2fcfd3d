"""The Bot Framework edge: every botbuilder import lives here.

botbuilder-python 4.17 is the last line (Microsoft's successor is the Microsoft 365
Agents SDK), so this module is the only thing a migration has to rewrite: it turns
activities into `Person`/text/card data for `Dialogue` and its `Reply`s back into
activities. Conversation references leave this module as plain dicts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from aiohttp import web
from botbuilder.core import (
    CardFactory,
    InvokeResponse,
    MessageFactory,
    TurnContext,
)
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
)
from botframework.connector.aio import ConnectorClient
from botframework.connector.auth import (
    AppCredentials,
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    MicrosoftAppCredentials,
    ServiceClientCredentialsFactory,
    UserTokenClient,
)
from botframework.connector.auth.jwt_token_extractor import JwtTokenExtractor

from bot import logs
from bot.connector import BotConnectorClient, TokenSource
from bot.conversation import cards
from bot.conversation.dialogue import Dialogue
from bot.conversation.types import Person, Reply
from bot.settings import AppType, Settings

log = logging.getLogger("bot.teams")

SORRY = (
    "Sorry, something went wrong on my side and I couldn't answer. Nothing you sent was "
    "lost; please try again in a minute. If it keeps happening, tell the DCCT."
)


# --- outbound tokens -------------------------------------------------------------------


class BotTokens(Protocol):
    """Access tokens the bot presents to the Bot Connector (replies, proactive messages)."""

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str: ...


class MsalBotTokens:
    """Real tokens through botbuilder's own credentials (msal), fetched off the event loop.

    botbuilder would build a new msal client per turn and call it synchronously on the
    loop; here one credentials object per (scope, authority) keeps msal's token cache,
    and the token is reused until it is half an hour old.
    """

    REUSE_SECONDS = 30 * 60

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._inner: ConfigurationServiceClientCredentialFactory | None = None
        self._credentials: dict[tuple[str, str, str], AppCredentials] = {}
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str:
        key = (app_id, scope, login_endpoint)
        cached = self._tokens.get(key)
        if cached and time.monotonic() - cached[1] < self.REUSE_SECONDS:
            return cached[0]
        credentials = self._credentials.get(key)
        if credentials is None:
            if self._inner is None:  # built on first use: in local mode it is never needed
                self._inner = ConfigurationServiceClientCredentialFactory(
                    _BotConfig(self._settings)
                )
            credentials = await self._inner.create_credentials(app_id, scope, login_endpoint, True)
            self._credentials[key] = credentials
        token: str = await asyncio.to_thread(credentials.get_access_token)
        self._tokens[key] = (token, time.monotonic())
        return token


class StaticBotTokens:
    """The fake: one fixed token, and a count of how often it was asked for."""

    def __init__(self, value: str = "test-bot-token") -> None:
        self.value = value
        self.calls = 0

    async def token(self, app_id: str, scope: str, login_endpoint: str) -> str:
        self.calls += 1
        return self.value


class _FixedTokenCredentials(AppCredentials):  # type: ignore[misc]
    def __init__(self, app_id: str, scope: str, token: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self._token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self._token


class TokenCredentialsFactory(ServiceClientCredentialsFactory):  # type: ignore[misc]
    """Hands botbuilder credentials whose token was fetched asynchronously beforehand."""

    def __init__(self, app_id: str, tokens: BotTokens) -> None:
        self.app_id = app_id
        self.tokens = tokens

    async def is_valid_app_id(self, app_id: str) -> bool:
        return bool(self.app_id) and app_id == self.app_id

    async def is_authentication_disabled(self) -> bool:
        return not self.app_id

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> AppCredentials:
        if not self.app_id:
            return MicrosoftAppCredentials.empty()
        if app_id != self.app_id:
            raise PermissionError("credentials asked for an unknown app id")
        token = await self.tokens.token(app_id, oauth_scope, login_endpoint)
        return _FixedTokenCredentials(app_id, oauth_scope, token)


class _SwappableTokenCredentials(AppCredentials):  # type: ignore[misc]
    """Credentials of a reused ConnectorClient: the token is refreshed before each turn."""

    def __init__(self, app_id: str, scope: str) -> None:
        super().__init__(app_id=app_id, oauth_scope=scope)
        self.token = ""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.token


class CachingConnectorFactory(ConnectorFactory):  # type: ignore[misc]
    """One ConnectorClient per (serviceUrl, audience), reused across turns.

    botbuilder builds a new client per turn, and msrest's configuration alone costs
    milliseconds of CPU (and a new HTTP session) each time; reuse keeps connections warm.
    """

    MAX_CLIENTS = 256
    USER_AGENT = "Microsoft-BotFramework/3.1 (BotBuilder Python/4.17; sp-social-media-adviser)"

    def __init__(self, app_id: str, scope: str, login_endpoint: str, tokens: BotTokens) -> None:
        self.app_id = app_id
        self.scope = scope
        self.login_endpoint = login_endpoint
        self.tokens = tokens
        self._clients: dict[tuple[str, str], tuple[ConnectorClient, AppCredentials]] = {}

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        scope = audience or self.scope
        key = (service_url, scope)
        entry = self._clients.pop(key, None)
        if entry is None:
            credentials: AppCredentials = (
                _SwappableTokenCredentials(self.app_id, scope)
                if self.app_id
                else MicrosoftAppCredentials.empty()
            )
            client = ConnectorClient(credentials, base_url=service_url)
            client.config.add_user_agent(self.USER_AGENT)
            entry = (client, credentials)
            if len(self._clients) >= self.MAX_CLIENTS:
                self._clients.pop(next(iter(self._clients)))
        self._clients[key] = entry  # most recently used last
        client, credentials = entry
        if isinstance(credentials, _SwappableTokenCredentials):
            credentials.token = await self.tokens.token(self.app_id, scope, self.login_endpoint)
        return client


class CachingAuthentication(BotFrameworkAuthentication):  # type: ignore[misc]
    """botbuilder's authentication, with connector and user-token clients reused."""

    def __init__(self, inner: BotFrameworkAuthentication, tokens: BotTokens) -> None:
        self.inner = inner
        self.tokens = tokens
        self._connectors: CachingConnectorFactory | None = None
        self._user_token_clients: dict[str, UserTokenClient] = {}

    def _reuse(self, factory: ConnectorFactory) -> ConnectorFactory:
        if self._connectors is None:
            # botbuilder 4.17 keeps the cloud's scope and login URL on its factory.
            self._connectors = CachingConnectorFactory(
                getattr(factory, "_app_id", "") or "",
                getattr(factory, "_to_channel_from_bot_oauth_scope", None)
                or AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE,
                getattr(factory, "_login_endpoint", None)
                or AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX
                + AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT,
                self.tokens,
            )
        return self._connectors

    async def authenticate_request(
        self, activity: Activity, auth_header: str | None
    ) -> AuthenticateRequestResult:
        result = await self.inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = self._reuse(result.connector_factory)
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self.inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return self._reuse(self.inner.create_connector_factory(claims_identity))

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        key = str(claims_identity.claims.get(AuthenticationConstants.AUDIENCE_CLAIM, ""))
        client = self._user_token_clients.get(key)
        if client is None:
            client = await self.inner.create_user_token_client(claims_identity)
            self._user_token_clients[key] = client
        return client

    def create_bot_framework_client(self) -> Any:
        return self.inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return str(self.inner.get_originating_audience())

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self.inner.authenticate_channel_request(auth_header)


@dataclass
class _BotConfig:
    """The attribute bag botbuilder's configuration classes read."""

    APP_ID: str
    APP_PASSWORD: str
    APP_TYPE: str
    APP_TENANTID: str

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.app_id
        self.APP_PASSWORD = settings.app_password
        self.APP_TYPE = settings.app_type.value
        self.APP_TENANTID = settings.app_tenant_id
        # Overrides for sovereign clouds and for tests with a local OpenID issuer.
        if settings.channel_openid_metadata_url:
            self.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL = settings.channel_openid_metadata_url
        if settings.channel_token_issuer:
            self.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER = settings.channel_token_issuer


# --- people and conversations ---------------------------------------------------------


def person_from_activity(activity: Activity) -> Person:
    sender: ChannelAccount = activity.from_property or ChannelAccount(id="", name="")
    channel_data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    tenant = channel_data.get("tenant")
    # botbuilder-schema maps conversation.tenantId to a field Teams doesn't fill, so the
    # tenant comes from channelData.tenant.id.
    tenant_id = tenant.get("id") if isinstance(tenant, dict) else None
    aad = sender.aad_object_id
    if not aad and activity.channel_id == "directline" and (sender.id or "").startswith("dl_"):
        # Our token endpoint binds the Direct Line user id to "dl_<Entra object id>".
        aad = sender.id[3:] or None
    reference = TurnContext.get_conversation_reference(activity)
    return Person(
        user_id=sender.id or "",
        name=sender.name or "",
        aad_object_id=aad,
        tenant_id=tenant_id,
        channel_id=activity.channel_id or "",
        conversation=reference.serialize(),
    )


def strip_bot_mention(activity: Activity) -> str:
    """Remove "<at>Bot</at>" from a channel message, literally (botbuilder's helper treats
    the display name as a regex and fails on entities it did not deserialise)."""
    text = activity.text or ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        raw = entity.serialize() if hasattr(entity, "serialize") else entity
        if not isinstance(raw, dict) or str(raw.get("type", "")).lower() != "mention":
            continue
        mentioned = raw.get("mentioned") or {}
        said = str(raw.get("text") or "")
        if said and isinstance(mentioned, dict) and mentioned.get("id") == bot_id:
            text = text.replace(said, " ")
    return text.strip()


# --- the handler ----------------------------------------------------------------------


class AdviserBot(TeamsActivityHandler):  # type: ignore[misc]
    """Thin: turns activities into Dialogue calls and Replies into activities."""

    def __init__(
        self, dialogue: Dialogue, typing_delay: float, outbound: Outbound | None = None
    ) -> None:
        self.dialogue = dialogue
        self.typing_delay = typing_delay
        self.outbound: Outbound = outbound or TurnContextOutbound()
        self._welcomed: dict[str, float] = {}

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        person = person_from_activity(activity)
        if isinstance(activity.value, dict) and not (activity.text or "").strip():
            work = self.dialogue.action(person, activity.value, activity.reply_to_id)
        else:
            work = self.dialogue.message(person, strip_bot_mention(activity))
        replies = await self._with_typing(turn_context, work)
        await self.outbound.send(turn_context, replies, activity.reply_to_id)

    async def on_adaptive_card_invoke(self, turn_context: TurnContext, invoke_value: Any) -> Any:
        """Action.Execute (Teams universal actions): the reply card replaces the old one."""
        action = getattr(invoke_value, "action", None) or {}
        data = action.get("data") if isinstance(action, Mapping) else None
        data = dict(data) if isinstance(data, Mapping) else {}
        verb = action.get("verb") if isinstance(action, Mapping) else None
        if isinstance(verb, str) and "action" not in data:
            data["action"] = verb
        activity = turn_context.activity
        replies = await self.dialogue.action(person_from_activity(activity), data, None)
        # The invoke response replaces the card; any other reply goes out as a message.
        replacement = next((r.replace or r.card for r in replies if r.replace or r.card), None)
        texts = [r.text for r in replies if r.text]
        if replacement is None:
            replacement = cards.notice_card("\n\n".join(texts) or "Done.")
            texts = []
        await self.outbound.send(turn_context, [Reply(text=t) for t in texts], None)
        return AdaptiveCardInvokeResponse(
            status_code=200, type=cards.CONTENT_TYPE, value=replacement
        )

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        activity = turn_context.activity
        bot_id = activity.recipient.id if activity.recipient else None
        if any(m.id == bot_id for m in members_added) or (
            _is_personal(activity) and any(m.id != bot_id for m in members_added)
        ):
            await self._welcome(turn_context)

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self._welcome(turn_context)

    async def _welcome(self, turn_context: TurnContext) -> None:
        # Teams sends both installationUpdate and conversationUpdate on install: one welcome.
        conversation = turn_context.activity.conversation.id
        now = time.monotonic()
        if now - self._welcomed.get(conversation, -1e9) < 60:
            return
        self._welcomed = {c: t for c, t in self._welcomed.items() if now - t < 60}
        self._welcomed[conversation] = now
        if _is_personal(turn_context.activity):
            await self.outbound.send(turn_context, self.dialogue.welcome(), None)
        else:
            await self.outbound.send(
                turn_context,
                [
                    Reply(
                        text="Hello. I'm the social media policy adviser. Staff talk to me "
                        "in a personal chat; in this team I only post requests that need a "
                        "person's judgement."
                    )
                ],
                None,
            )

    async def _with_typing(
        self, turn_context: TurnContext, work: Awaitable[list[Reply]]
    ) -> list[Reply]:
        """Show typing only if the answer is slower than `typing_delay`."""

        async def typing_later() -> None:
            await asyncio.sleep(self.typing_delay)
            await self.outbound.typing(turn_context)

        typing = asyncio.create_task(typing_later())
        try:
            return await work
        finally:
            if not typing.done():
                typing.cancel()
            elif typing.exception() is not None:
                log.warning("typing.failed", extra=logs.fields(error=str(typing.exception())))


def _is_personal(activity: Activity) -> bool:
    kind = getattr(activity.conversation, "conversation_type", None)
    return kind in (None, "personal")


class Outbound(Protocol):
    """How replies leave a turn."""

    async def typing(self, turn_context: TurnContext) -> None: ...

    async def send(
        self, turn_context: TurnContext, replies: list[Reply], acted_on: str | None
    ) -> None: ...


# Direct Line (web chat) cannot edit a sent activity.
CHANNELS_WITHOUT_UPDATES = frozenset({"directline", "webchat"})


def updates_in_place(turn_context: TurnContext, acted_on: str | None) -> bool:
    """Can a reply replace the card that was acted on? Otherwise the new state is sent
    as a new card, so nothing the user should see is dropped."""
    return bool(acted_on) and turn_context.activity.channel_id not in CHANNELS_WITHOUT_UPDATES


class TurnContextOutbound:
    """botbuilder's own path (used under TestAdapter, which captures it)."""

    async def typing(self, turn_context: TurnContext) -> None:
        await turn_context.send_activity(Activity(type=ActivityTypes.typing))

    async def send(
        self, turn_context: TurnContext, replies: list[Reply], acted_on: str | None
    ) -> None:
        in_place = updates_in_place(turn_context, acted_on)
        for reply in replies:
            if reply.replace is not None and in_place:
                update = MessageFactory.attachment(CardFactory.adaptive_card(reply.replace))
                update.id = acted_on
                await turn_context.update_activity(update)
            elif reply.replace is not None:
                await turn_context.send_activity(
                    MessageFactory.attachment(CardFactory.adaptive_card(reply.replace))
                )
            if reply.card is not None:
                await turn_context.send_activity(
                    MessageFactory.attachment(CardFactory.adaptive_card(reply.card))
                )
            if reply.text:
                await turn_context.send_activity(MessageFactory.text(reply.text))


class ConnectorOutbound:
    """Replies as plain JSON through our Bot Connector client (retries Teams' 429s)."""

    def __init__(self, client: Callable[[], BotConnectorClient]) -> None:
        self.client = client

    async def typing(self, turn_context: TurnContext) -> None:
        await self._post(turn_context, {"type": "typing"})

    async def send(
        self, turn_context: TurnContext, replies: list[Reply], acted_on: str | None
    ) -> None:
        incoming = turn_context.activity
        in_place = updates_in_place(turn_context, acted_on)
        for reply in replies:
            if reply.replace is not None and in_place:
                await self.client().update(
                    incoming.service_url,
                    incoming.conversation.id,
                    acted_on or "",
                    self._activity(turn_context, attachments=[_card(reply.replace)]),
                )
            elif reply.replace is not None:  # web chat: the new state comes as a new card
                await self._post(turn_context, {"attachments": [_card(reply.replace)]})
            if reply.card is not None:
                await self._post(turn_context, {"attachments": [_card(reply.card)]})
            if reply.text:
                await self._post(turn_context, {"text": reply.text, "textFormat": "plain"})

    async def _post(self, turn_context: TurnContext, fields: dict[str, Any]) -> None:
        incoming = turn_context.activity
        await self.client().send(
            incoming.service_url,
            incoming.conversation.id,
            self._activity(turn_context, **fields),
            reply_to=incoming.id,
        )

    @staticmethod
    def _activity(turn_context: TurnContext, **fields: Any) -> dict[str, Any]:
        incoming = turn_context.activity
        bot = incoming.recipient
        user = incoming.from_property
        conversation = incoming.conversation
        activity: dict[str, Any] = {
            "type": "message",
            "channelId": incoming.channel_id,
            "serviceUrl": incoming.service_url,
            "from": {"id": bot.id, "name": bot.name} if bot else {},
            "recipient": {"id": user.id, "name": user.name} if user else {},
            "conversation": {"id": conversation.id},
            "replyToId": incoming.id,
            "locale": incoming.locale or "en-GB",
            **fields,
        }
        if conversation.tenant_id or conversation.conversation_type:
            activity["conversation"].update(
                {
                    k: v
                    for k, v in (
                        ("tenantId", conversation.tenant_id),
                        ("conversationType", conversation.conversation_type),
                    )
                    if v
                }
            )
        return activity


def _card(content: dict[str, Any]) -> dict[str, Any]:
    return {"contentType": cards.CONTENT_TYPE, "content": content}


def bot_token_source(settings: Settings, tokens: BotTokens) -> TokenSource:
    """Tokens for talking to the Bot Connector (public cloud); none in local mode."""
    tenant = (
        settings.app_tenant_id
        if settings.app_type is not AppType.MULTI_TENANT and settings.app_tenant_id
        else AuthenticationConstants.DEFAULT_CHANNEL_AUTH_TENANT
    )
    login = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL_PREFIX + tenant
    scope = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE

    async def token() -> str | None:
        if settings.local_mode:
            return None
        return await tokens.token(settings.app_id, scope, login)

    return token


# --- signing keys --------------------------------------------------------------------

SIGNING_KEYS_REFRESH_SECONDS = 12 * 3600


def _refresh_signing_keys(url: str) -> None:
    # botbuilder caches keys per metadata URL and refreshes them with blocking `requests`
    # inside request handling once they are a day old; refreshing here, on a thread,
    # keeps that off the event loop.
    metadata = JwtTokenExtractor.get_open_id_metadata(url)
    asyncio.run(metadata._refresh())


async def keep_signing_keys_fresh(settings: Settings) -> None:
    """Fetch the channel's signing keys at start and twice a day, off the event loop."""
    url = (
        settings.channel_openid_metadata_url
        or AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    while True:
        try:
            await asyncio.to_thread(_refresh_signing_keys, url)
            log.info("auth.keys_refreshed", extra=logs.fields(url=url))
        except Exception as exc:  # botbuilder retries on its own when a request needs keys
            log.warning("auth.keys_refresh_failed", extra=logs.fields(url=url, error=str(exc)))
        await asyncio.sleep(SIGNING_KEYS_REFRESH_SECONDS)


# --- the HTTP endpoint ----------------------------------------------------------------


def problem(status: int, title: str) -> web.Response:
    return web.json_response({"error": {"status": status, "message": title}}, status=status)


def create_adapter(settings: Settings, tokens: BotTokens) -> CloudAdapter:
    auth = ConfigurationBotFrameworkAuthentication(
        _BotConfig(settings),
        credentials_factory=TokenCredentialsFactory(settings.app_id, tokens),
    )
    adapter = CloudAdapter(CachingAuthentication(auth, tokens))

    async def on_error(turn_context: TurnContext, error: Exception) -> None:
        activity = turn_context.activity
        log.error(
            "turn.failed",
            exc_info=error,
            extra=logs.fields(activity_type=activity.type, channel=activity.channel_id),
        )
        try:
            await turn_context.send_activity(MessageFactory.text(SORRY))
        except Exception as exc:  # the connector itself may be what failed
            log.error("turn.apology_failed", extra=logs.fields(error=str(exc)))

    adapter.on_turn_error = on_error
    return adapter


MessagesHandler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def messages_endpoint(
    settings: Settings, adapter: CloudAdapter, bot: AdviserBot
) -> MessagesHandler:
    auth = adapter.bot_framework_authentication

    async def messages(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization")
        if not settings.local_mode and not header:
            # Checked before the adapter: with auth overrides set it answers 500, not 401.
            return problem(401, "missing Authorization header")
        if request.content_type != "application/json":
            return problem(415, "expected application/json")
        try:
            body = await request.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            return problem(400, "body is not valid JSON")
        if not isinstance(body, dict) or not isinstance(body.get("type"), str):
            return problem(400, "body is not a Bot Framework activity")
        try:
            activity = Activity().deserialize(body)
        except Exception:
            return problem(400, "body is not a Bot Framework activity")
        if not activity.service_url or not activity.conversation or not activity.conversation.id:
            return problem(400, "activity needs serviceUrl and conversation.id")
        try:
            authenticated = await auth.authenticate_request(
                activity, None if settings.local_mode else header
            )
        except Exception as exc:  # PermissionError, expired or badly signed JWT, …
            log.warning("auth.rejected", extra=logs.fields(reason=type(exc).__name__))
            return problem(401, "not authorised")
        response: InvokeResponse | None = await adapter.process_activity(
            authenticated, activity, bot.on_turn
        )
        if response is not None:
            return web.json_response(response.body, status=response.status)
        return web.Response(status=201)

    return messages
