"""Signed card actions: a button only acts on the ticket and for the people it was made for.

Card data comes back from the client and can be forged; each escalation button carries
an HMAC over (ticket, purpose) so a made-up submit cannot close someone else's ticket.
Who may press it is checked separately against the ticket (see service.py).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets


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
        message = f"{ticket_id}:{purpose}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:32]

    def verify(self, ticket_id: object, purpose: str, signature: object) -> bool:
        if not isinstance(signature, str) or not isinstance(ticket_id, int | str):
            return False
        return hmac.compare_digest(self.sign(ticket_id, purpose), signature)
