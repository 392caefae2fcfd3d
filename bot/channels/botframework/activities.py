"""Bot Framework activities as conversation values: who sent it, what they said."""

from __future__ import annotations

from botbuilder.core import TurnContext
from botbuilder.schema import Activity, ChannelAccount

from bot.conversation.types import Person


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


def is_personal(activity: Activity) -> bool:
    kind = getattr(activity.conversation, "conversation_type", None)
    return kind in (None, "personal")
