"""The escalation world (real server, fake Bot Connector, fake Graph and sign-in) with a
second DCCT member, so that four eyes can be tested."""

from __future__ import annotations

from tests.escalation.conftest import world, world_settings

__all__ = ["world", "world_settings"]
