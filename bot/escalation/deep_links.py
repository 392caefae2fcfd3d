"""Teams deep links to a message: where an activity-feed alert takes the expert.

Teams' documented formats (Microsoft Learn, "Deep link to Teams chat"):
`https://teams.microsoft.com/l/message/{chatId}/{messageId}?context={"contextType":"chat"}`
for a chat, and `…/l/message/{channelId}/{messageId}?tenantId=…&parentMessageId=…` for a
channel post. The Bot Framework calls a one-to-one chat with the bot `a:…`; Teams (and
Graph) call the same chat `19:{user's Entra id}_{bot's app id}@unq.gbl.spaces`.
"""

from __future__ import annotations

import json
from urllib.parse import quote, urlencode

TEAMS = "https://teams.microsoft.com/l/message"


def _ids(*values: str) -> str:
    return "/".join(quote(v, safe=":@") for v in values)


def bot_chat_id(user_aad: str, bot_id: str) -> str:
    """Teams' id of a person's one-to-one chat with the bot (`bot_id` may be "28:…")."""
    return f"19:{user_aad}_{bot_id.removeprefix('28:')}@unq.gbl.spaces"


def chat_message(chat_id: str, message_id: str) -> str:
    context = json.dumps({"contextType": "chat"}, separators=(",", ":"))
    return f"{TEAMS}/{_ids(chat_id, message_id)}?{urlencode({'context': context})}"


def channel_message(channel_id: str, message_id: str, tenant_id: str | None) -> str:
    query = {"parentMessageId": message_id} | ({"tenantId": tenant_id} if tenant_id else {})
    return f"{TEAMS}/{_ids(channel_id, message_id)}?{urlencode(query)}"
