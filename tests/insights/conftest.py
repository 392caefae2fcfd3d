"""The insights tests use the channel tests' running server."""

from tests.channels.conftest import running

__all__ = ["running"]
