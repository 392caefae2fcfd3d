"""Web chat user ids the bot can verify: `dl_<Entra object id>_<signature>`.

A Direct Line client chooses the `from.id` of what it sends, and Direct Line passes it
on unless the channel's enhanced authentication is on (then it is the id the token was
made for). So the bot never takes a web chat user's identity from `from.id` alone: the
ids it hands out (the web part's token endpoint, the local /chat page) carry an HMAC of
the object id that only the bot can make, and an activity whose id does not verify is
from an anonymous user: no escalation, no one else's requests. Direct Line's enhanced
authentication requires the `dl_` prefix; the signature keeps the id short (66
characters for a GUID) and unguessable.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

PREFIX = "dl_"
_DOMAIN = b"webchat-user-id\x00"  # keeps these signatures apart from the card buttons'
MAX_ID = 200


class WebChatIds:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the signing key must be at least 16 bytes")
        self._key = key

    @classmethod
    def ephemeral(cls) -> WebChatIds:
        """A key for this process only (local mode): ids issued before a restart lapse."""
        return cls(secrets.token_bytes(32))

    def issue(self, object_id: str) -> str:
        """The web chat user id for a person whose Entra object id the bot has checked."""
        if not object_id or "_" in object_id:
            raise ValueError("an object id has no underscore")
        return f"{PREFIX}{object_id}_{self._sign(object_id)}"

    def verify(self, user_id: str) -> str | None:
        """The object id inside `user_id` if the bot issued it, else None."""
        if not user_id.startswith(PREFIX) or len(user_id) > MAX_ID:
            return None
        object_id, _, signature = user_id[len(PREFIX) :].rpartition("_")
        if not object_id or not hmac.compare_digest(signature, self._sign(object_id)):
            return None
        return object_id

    def _sign(self, object_id: str) -> str:
        digest = hmac.new(self._key, _DOMAIN + object_id.encode(), hashlib.sha256).digest()
        return base64.b32encode(digest[:16]).decode().rstrip("=").lower()
