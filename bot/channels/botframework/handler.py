"""The botbuilder activity handler: recognises the kind of activity and passes its JSON
to the shared `Turns` (bot/channels/activity_protocol/turns.py)."""

from __future__ import annotations

from typing import Any

from botbuilder.core import InvokeResponse, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount

from bot.channels.activity_protocol.turns import Turns


def activity_json(activity: Activity) -> dict[str, Any]:
    """The activity as Bot Framework JSON. botbuilder-schema drops conversation.tenantId
    here; the shared code falls back to channelData.tenant.id, which it keeps."""
    serialized: dict[str, Any] = activity.serialize()
    return serialized


class AdviserBot(TeamsActivityHandler):  # type: ignore[misc]
    def __init__(self, turns: Turns) -> None:
        self.turns = turns

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        await self.turns.message(activity_json(turn_context.activity))

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        if turn_context.activity.name == "healthCheck":  # botbuilder's own answer
            response: InvokeResponse = await super().on_invoke_activity(turn_context)
            return response
        status, body = await self.turns.invoke(activity_json(turn_context.activity))
        return InvokeResponse(status=status, body=body)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContext
    ) -> None:
        await self.turns.members_added(activity_json(turn_context.activity))

    async def on_installation_update_add(self, turn_context: TurnContext) -> None:
        await self.turns.installed(activity_json(turn_context.activity))

    async def on_event(self, turn_context: TurnContext) -> None:
        await self.turns.event(activity_json(turn_context.activity))
