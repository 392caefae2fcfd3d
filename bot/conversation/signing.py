"""Signed card data: a button only acts on what the bot put in it.

Card data comes back from the client and can be forged. Two kinds of signature:
- `sign`/`verify`: an HMAC over (ticket, purpose) on each escalation button, so a made-up
  submit cannot close someone else's ticket (who may press it is checked separately,
  against the ticket: see bot/escalation/service.py);
- `seal`/`unseal`: a whole value (the question and the advice an answer card showed)
  carried in the card's buttons, compressed and signed, so what a later press acts on
  is exactly what the person saw, and nothing has to be stored to know it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import zlib
from collections.abc import Mapping
from typing import Any

MAX_SEALED = 64 * 1024  # a sealed value never unpacks to more than this


class CardSigner:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("card signing key must be at least 16 bytes")
        self._key = key

    @classmethod
    def ephemeral(cls) -> CardSigner:
        """Local mode: a fresh key per process (cards from an earlier run stop working)."""
        return cls(secrets.token_bytes(32))

    def sign(self, ticket_id: int | str, purpose: str) -> str:
        return self._mac(f"{ticket_id}:{purpose}")

    def verify(self, ticket_id: object, purpose: str, signature: object) -> bool:
        if not isinstance(signature, str) or not isinstance(ticket_id, int | str):
            return False
        return hmac.compare_digest(self.sign(ticket_id, purpose), signature)

    def seal(self, purpose: str, value: Mapping[str, Any]) -> str:
        """`value` as a compact signed string, valid only for `purpose`."""
        raw = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
        body = base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")
        return f"{body}.{self._mac(f'{purpose}:{body}')}"

    def unseal(self, purpose: str, sealed: object) -> dict[str, Any] | None:
        """The value sealed for `purpose`, or None when forged, altered or not one."""
        if not isinstance(sealed, str) or sealed.count(".") != 1:
            return None
        body, signature = sealed.split(".")
        if not hmac.compare_digest(self._mac(f"{purpose}:{body}"), signature):
            return None
        try:
            packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            inflate = zlib.decompressobj()
            raw = inflate.decompress(packed, MAX_SEALED)
            if inflate.unconsumed_tail:
                return None
            value = json.loads(raw)
        except (ValueError, zlib.error):
            return None
        return value if isinstance(value, dict) else None

    def _mac(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()[:32]
