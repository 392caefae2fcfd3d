"""Bot Framework activities, as JSON, turned into conversation values.

Both SDKs hand activities over as the JSON the channel posted (camelCase keys), so this
reads the wire format, never an SDK class.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.channels.directline.identity import PREFIX, WebChatIds
from bot.conversation.types import Person

Activity = Mapping[str, Any]  # one activity as Bot Framework JSON
WEB_CHAT_CHANNELS = frozenset({"directline", "webchat"})


def _object(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def tenant_id(activity: Activity) -> str | None:
    """Teams sends the tenant twice; botbuilder drops conversation.tenantId, so the
    channelData copy is the fallback."""
    conversation_tenant = _object(activity.get("conversation")).get("tenantId")
    tenant = conversation_tenant or _object(_object(activity.get("channelData")).get("tenant")).get(
        "id"
    )
    return str(tenant) if tenant else None


def conversation_reference(activity: Activity) -> dict[str, Any]:
    """What a proactive message needs later, in the JSON shape of a ConversationReference
    (the escalation tickets store it), with the tenant kept."""
    conversation = dict(_object(activity.get("conversation")))
    tenant = tenant_id(activity)
    if tenant and "tenantId" not in conversation:
        conversation["tenantId"] = tenant
    reference: dict[str, Any] = {
        "activityId": activity.get("id"),
        "user": dict(_object(activity.get("from"))),
        "bot": dict(_object(activity.get("recipient"))),
        "conversation": conversation,
        "channelId": activity.get("channelId"),
        "locale": activity.get("locale"),
        "serviceUrl": activity.get("serviceUrl"),
    }
    return {key: value for key, value in reference.items() if value is not None}


def person_from_activity(activity: Activity, web_chat_ids: WebChatIds) -> Person:
    sender = _object(activity.get("from"))
    user_id = str(sender.get("id") or "")
    channel = str(activity.get("channelId") or "")
    aad = sender.get("aadObjectId")
    if channel in WEB_CHAT_CHANNELS:
        # A web chat client writes its own from.id and from.aadObjectId: only an id the
        # bot signed names a person (bot/channels/directline/identity.py). Anyone else is
        # anonymous, under an id that cannot equal a signed-in person's.
        aad = web_chat_ids.verify(user_id)
        user_id = f"{PREFIX}{aad}" if aad else f"unverified:{user_id}"
    return Person(
        user_id=user_id,
        name=str(sender.get("name") or ""),
        aad_object_id=str(aad) if aad else None,
        tenant_id=tenant_id(activity),
        channel_id=channel,
        conversation=conversation_reference(activity),
    )


def strip_bot_mention(activity: Activity) -> str:
    """Remove "<at>Bot</at>" from a channel message, literally (botbuilder's helper treats
    the display name as a regex)."""
    text = str(activity.get("text") or "")
    bot_id = _object(activity.get("recipient")).get("id")
    for entity in activity.get("entities") or []:
        entity = _object(entity)
        if str(entity.get("type", "")).lower() != "mention":
            continue
        said = str(entity.get("text") or "")
        if said and _object(entity.get("mentioned")).get("id") == bot_id:
            text = text.replace(said, " ")
    return text.strip()


def is_personal(activity: Activity) -> bool:
    kind = _object(activity.get("conversation")).get("conversationType")
    return kind in (None, "personal")


def submitted_data(activity: Activity) -> Mapping[str, Any] | None:
    """The data of an Action.Submit: a message with a `value` object and no text."""
    value = activity.get("value")
    if isinstance(value, Mapping) and not str(activity.get("text") or "").strip():
        return value
    return None


def executed_data(activity: Activity) -> dict[str, Any]:
    """The data of an Action.Execute invoke, its verb as `action` unless the data has one."""
    action = _object(_object(activity.get("value")).get("action"))
    data = dict(_object(action.get("data")))
    verb = action.get("verb")
    if isinstance(verb, str) and "action" not in data:
        data["action"] = verb
    return data


def added_member_ids(activity: Activity) -> list[str]:
    return [str(_object(m).get("id") or "") for m in activity.get("membersAdded") or []]
