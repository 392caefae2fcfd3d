"""The Agents SDK activity handler: recognises the kind of activity and passes its JSON
to the shared `Turns` (bot/channels/activity_protocol/turns.py).

An `ActivityHandler`, the SDK's counterpart of botbuilder's: `AgentApplication` adds
turn state, storage and route decorators this bot has no use for.
"""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import (
    Activity,
    ChannelAccount,
    InvokeResponse,
    TurnContextProtocol,
)
from microsoft_agents.hosting.core import ActivityHandler

from bot.channels.activity_protocol.turns import Turns


def activity_json(activity: Activity) -> dict[str, Any]:
    """The activity as Bot Framework JSON (the SDK keeps conversation.tenantId)."""
    return activity.model_dump(mode="json", by_alias=True, exclude_none=True)


class AdviserAgent(ActivityHandler):
    def __init__(self, turns: Turns) -> None:
        self.turns = turns

    async def on_message_activity(self, turn_context: TurnContextProtocol[Activity]) -> None:
        await self.turns.message(activity_json(turn_context.activity))

    async def on_invoke_activity(
        self, turn_context: TurnContextProtocol[Activity]
    ) -> InvokeResponse | None:
        status, body = await self.turns.invoke(activity_json(turn_context.activity))
        return InvokeResponse(status=status, body=body)

    async def on_members_added_activity(
        self, members_added: list[ChannelAccount], turn_context: TurnContextProtocol[Activity]
    ) -> None:
        await self.turns.members_added(activity_json(turn_context.activity))

    async def on_installation_update_add(self, turn_context: TurnContextProtocol[Activity]) -> None:
        await self.turns.installed(activity_json(turn_context.activity))

    async def on_event(self, turn_context: TurnContextProtocol[Activity]) -> None:
        await self.turns.event(activity_json(turn_context.activity))
