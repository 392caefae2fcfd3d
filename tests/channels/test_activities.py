"""Activity JSON → conversation values, the same whichever SDK parsed the activity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botbuilder.schema import Activity as BotbuilderActivity
from microsoft_agents.activity import Activity as AgentsActivity

from bot.channels.activity_protocol.activities import person_from_activity, strip_bot_mention
from bot.channels.activity_protocol.outbound import reply_activity
from bot.channels.agents.handler import activity_json as agents_json
from bot.channels.botframework.handler import activity_json as botbuilder_json
from bot.channels.directline.identity import WebChatIds
from bot.fakes import activities
from bot.fakes.activities import TENANT, TeamsUser

USER = TeamsUser()
IDS = WebChatIds(b"k" * 32)
URL = "https://smba.example/amer/"
Parse = Callable[[dict[str, Any]], dict[str, Any]]
SDKS: dict[str, Parse] = {
    "botbuilder": lambda body: botbuilder_json(BotbuilderActivity().deserialize(body)),
    "agents": lambda body: agents_json(AgentsActivity.model_validate(body)),
}
KINDS = {
    "message": activities.message("Can I post this?", USER, URL),
    "submit": activities.card_submit({"action": "ask", "question": "q"}, USER, URL, "a-1"),
    "execute": activities.card_execute({"action": "ask", "question": "q"}, USER, URL),
    "installed": activities.bot_installed(USER, URL),
}


@pytest.mark.parametrize("sdk", SDKS)
def test_the_tenant_is_kept_whichever_sdk_parsed_the_activity(sdk: str) -> None:
    person = person_from_activity(SDKS[sdk](KINDS["message"]), IDS)
    assert (person.tenant_id, person.aad_object_id) == (TENANT, USER.aad_object_id)
    assert person.conversation["conversation"] == {
        "id": USER.conversation_id,
        "conversationType": "personal",
        "tenantId": TENANT,
    }
    assert person.conversation["serviceUrl"] == URL
    assert person.conversation["bot"]["id"] == activities.BOT_ID


@pytest.mark.parametrize("kind", KINDS)
def test_both_sdks_give_the_same_person_and_the_same_reply(kind: str) -> None:
    botbuilder, agents = (SDKS[sdk](KINDS[kind]) for sdk in ("botbuilder", "agents"))
    assert person_from_activity(botbuilder, IDS) == person_from_activity(agents, IDS)
    assert reply_activity(botbuilder, text="x") == reply_activity(agents, text="x")


def test_only_web_chat_ids_the_bot_signed_name_a_person() -> None:
    base = {"type": "message", "channelId": "directline", "serviceUrl": URL}
    signed = {**base, "from": {"id": IDS.issue("oid-2"), "name": "W"}, "conversation": {"id": "c"}}
    person = person_from_activity(signed, IDS)
    assert (person.aad_object_id, person.user_id) == ("oid-2", "dl_oid-2")
    for forged in (
        {"id": "dl_oid-2"},  # the old unsigned form
        {"id": "dl_oid-2_" + "a" * 26},  # a made-up signature
        {"id": WebChatIds.ephemeral().issue("oid-2")},  # another key's
        {"id": "guest-7", "aadObjectId": "oid-2"},  # aadObjectId is the client's to write
    ):
        person = person_from_activity({**signed, "from": forged}, IDS)
        assert person.aad_object_id is None, forged
        assert person.user_id == f"unverified:{forged['id']}"  # never a signed-in person's
        assert person.tenant_id is None


def test_the_tenant_falls_back_to_channel_data() -> None:
    body = {**KINDS["message"], "conversation": {"id": "a:1"}}
    assert person_from_activity(body, IDS).tenant_id == TENANT
    assert reply_activity(body)["conversation"] == {"id": "a:1", "tenantId": TENANT}


def test_only_the_bots_own_mention_is_stripped() -> None:
    body = {
        **KINDS["message"],
        "text": "<at>Policy adviser</at> ask <at>Sam</at> about it",
        "entities": [
            {
                "type": "mention",
                "text": "<at>Policy adviser</at>",
                "mentioned": {"id": activities.BOT_ID},
            },
            {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam"}},
        ],
    }
    assert strip_bot_mention(body) == "ask <at>Sam</at> about it"
